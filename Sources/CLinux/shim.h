// Linux interfaces that Swift's Glibc module does not include.
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timex.h>
#include <signal.h>

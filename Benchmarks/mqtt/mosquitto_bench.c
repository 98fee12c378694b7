/* Publishes N QoS 1 messages through libmosquitto with at most W unacknowledged, then prints the
 * same last line as `edge-agent bench publish`. Usage: mosquitto_bench PORT COUNT SIZE WINDOW [5]
 * (5: MQTT 5.0, libmosquitto's MQTT_PROTOCOL_V5; else 3.1.1) */
#include <mosquitto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long acked = 0;
static int connected = 0;

static void on_connect(struct mosquitto *m, void *u, int rc) { (void)m; (void)u; connected = rc == 0 ? 1 : -1; }
static void on_publish(struct mosquitto *m, void *u, int mid) { (void)m; (void)u; (void)mid; acked++; }

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }

int main(int argc, char **argv) {
    if (argc < 5) { fprintf(stderr, "usage: %s PORT COUNT SIZE WINDOW\n", argv[0]); return 2; }
    int port = atoi(argv[1]); long count = atol(argv[2]); int size = atoi(argv[3]); int window = atoi(argv[4]);
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new("libmosquitto-bench", true, NULL);
    if (argc > 5 && strcmp(argv[5], "5") == 0) mosquitto_int_option(m, MOSQ_OPT_PROTOCOL_VERSION, MQTT_PROTOCOL_V5);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_max_inflight_messages_set(m, (unsigned)window);
    if (mosquitto_connect(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS) { fprintf(stderr, "connect failed\n"); return 1; }
    while (connected == 0) mosquitto_loop(m, 100, 1);
    if (connected < 0) { fprintf(stderr, "refused\n"); return 1; }
    char *payload = malloc(size > 0 ? size : 1);
    for (int i = 0; i < size; i++) payload[i] = (char)i;
    long sent = 0;
    double start = now();
    while (acked < count) {
        while (sent < count && sent - acked < window) {
            if (mosquitto_publish(m, NULL, "edge-agent/bench", size, payload, 1, false) != MOSQ_ERR_SUCCESS) break;
            sent++;
        }
        mosquitto_loop(m, 1000, 1);
    }
    double seconds = now() - start;
    printf("published %ld messages in %.3f s: %.0f msg/s\n", count, seconds, count / seconds);
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    free(payload);
    return 0;
}

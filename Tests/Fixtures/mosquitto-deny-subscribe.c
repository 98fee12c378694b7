/* A mosquitto 2.0 plugin for tests: refuses SUBSCRIBE to any filter under "denied/", so the real
 * broker answers SUBACK 0x80 (mosquitto's own ACL files never deny a subscription). */
#include <string.h>
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

static mosquitto_plugin_id_t *plugin_id;

static int acl_check(int event, void *event_data, void *userdata) {
    struct mosquitto_evt_acl_check *check = event_data;
    (void)event; (void)userdata;
    if (check->access == MOSQ_ACL_SUBSCRIBE && strncmp(check->topic, "denied/", 7) == 0) return MOSQ_ERR_ACL_DENIED;
    return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int count, const int *versions) { (void)count; (void)versions; return 5; }

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *options, int count) {
    (void)userdata; (void)options; (void)count;
    plugin_id = identifier;
    return mosquitto_callback_register(plugin_id, MOSQ_EVT_ACL_CHECK, acl_check, NULL, NULL);
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int count) {
    (void)userdata; (void)options; (void)count;
    return mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, acl_check, NULL);
}

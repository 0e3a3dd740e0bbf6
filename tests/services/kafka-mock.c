/*
 * A Kafka-protocol broker for tests: librdkafka's mock cluster, driven by lines on stdin.
 * Compiled and started by tests/services/kafka-mock.ts. Usage: kafka-mock <brokers>
 *
 * Prints "ready <bootstrap servers> controller=<id>" once listening, then answers every
 * command line with exactly one line, "ok" or "err <reason>":
 *   topic <name> <partitions>            create a topic (replication = brokers)
 *   down <broker|-1> / up <broker|-1>    refuse / accept connections (-1 = every broker)
 *   leader <topic> <partition> <broker>  move a partition's leader
 *   errors <apiKey> <code> [<code>...]   the next requests of that API fail with these codes
 *   topicerror <topic> <code>            metadata requests for the topic answer this error (0 = none)
 *   quit                                 stop (EOF on stdin stops too: the parent died)
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The mock cluster reports controller id 0, which no broker has, so the idempotent producer
 * fails with "Broker 0 not found". No public call sets it; in librdkafka 2.0.2 .. 2.15 the
 * field is the int32 at byte 40 of the cluster struct, right after the "mockCluster..." id
 * string and the rd_kafka_t pointer. Only written when both facts check out.
 */
static int set_controller(rd_kafka_mock_cluster_t *mcluster, int32_t id) {
  const char *raw = (const char *)mcluster;
  int32_t *field = (int32_t *)(raw + 40);
  if (strncmp(raw, "mockCluster", 11) != 0 || *field != 0) return 0;
  *field = id;
  return 1;
}

static void answer(rd_kafka_resp_err_t err) {
  if (err) printf("err %s\n", rd_kafka_err2str(err));
  else printf("ok\n");
  fflush(stdout);
}

int main(int argc, char **argv) {
  int brokers = argc > 1 ? atoi(argv[1]) : 1;
  char errstr[512];
  if (brokers < 1) brokers = 1;

  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (!rk) {
    fprintf(stderr, "kafka-mock: cannot create the librdkafka handle: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t *mcluster = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mcluster) {
    fprintf(stderr, "kafka-mock: cannot create the mock cluster\n");
    return 1;
  }
  int patched = set_controller(mcluster, 1);
  printf("ready %s controller=%s\n", rd_kafka_mock_cluster_bootstraps(mcluster), patched ? "1" : "unset");
  fflush(stdout);

  char line[4096];
  while (fgets(line, sizeof(line), stdin)) {
    char cmd[32] = "", name[1024] = "";
    int a = 0, b = 0;
    if (sscanf(line, "%31s", cmd) != 1) continue;
    if (!strcmp(cmd, "quit")) break;
    if (!strcmp(cmd, "topic") && sscanf(line, "%*s %1023s %d", name, &a) == 2) {
      answer(rd_kafka_mock_topic_create(mcluster, name, a, brokers));
    } else if (!strcmp(cmd, "down") && sscanf(line, "%*s %d", &a) == 1) {
      answer(rd_kafka_mock_broker_set_down(mcluster, a));
    } else if (!strcmp(cmd, "up") && sscanf(line, "%*s %d", &a) == 1) {
      answer(rd_kafka_mock_broker_set_up(mcluster, a));
    } else if (!strcmp(cmd, "leader") && sscanf(line, "%*s %1023s %d %d", name, &a, &b) == 3) {
      answer(rd_kafka_mock_partition_set_leader(mcluster, name, a, b));
    } else if (!strcmp(cmd, "topicerror") && sscanf(line, "%*s %1023s %d", name, &a) == 2) {
      rd_kafka_mock_topic_set_error(mcluster, name, (rd_kafka_resp_err_t)a);
      answer(RD_KAFKA_RESP_ERR_NO_ERROR);
    } else if (!strcmp(cmd, "errors")) {
      rd_kafka_resp_err_t codes[64];
      size_t count = 0;
      int apiKey = 0, used = 0, code = 0;
      const char *p = line;
      if (sscanf(p, "%*s %d%n", &apiKey, &used) != 1) {
        printf("err usage: errors <apiKey> <code>...\n");
        fflush(stdout);
        continue;
      }
      p += used;
      while (count < 64 && sscanf(p, "%d%n", &code, &used) == 1) {
        codes[count++] = (rd_kafka_resp_err_t)code;
        p += used;
      }
      rd_kafka_mock_push_request_errors_array(mcluster, (int16_t)apiKey, count, codes);
      answer(RD_KAFKA_RESP_ERR_NO_ERROR);
    } else {
      printf("err unknown command: %s", line);
      if (line[strlen(line) - 1] != '\n') printf("\n");
      fflush(stdout);
    }
  }
  rd_kafka_mock_cluster_destroy(mcluster);
  rd_kafka_destroy(rk);
  return 0;
}

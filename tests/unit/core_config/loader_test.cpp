#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "core/base/sha256.hpp"
#include "core/config/loader.hpp"
#include "test_schemas.hpp"

using namespace std::chrono_literals;
using namespace xnode::config;
using Lines = std::vector<std::string>;
using xnode::config::test::first_error;

namespace {

// The smallest valid configuration: everything else takes its default.
const std::string kMinimal = R"(node:
  id: scj-01
  department: 11540100MB00000008
uplink:
  endpoints: [https://127.0.0.1:8443]
  server_name: platform.xchg.test
  ca_file: pki/ca.pem
  cert_file: /etc/xnode/pki/node.pem
  key_file: /etc/xnode/pki/node.key
)";

LoadResult load(const std::string& text) {
  return load_config_text(text, "xnode.yaml", test::test_drivers(), "/etc/xnode");
}

Lines errors_of(const std::string& text) {
  LoadResult result = load(text);
  CHECK_FALSE(result.ok());
  return result.errors;
}

}  // namespace

TEST_SUITE("core::config::loader") {
  TEST_CASE("a minimal file gets every default") {
    LoadResult result = load(kMinimal);
    INFO(first_error(result.errors));
    REQUIRE(result.ok());
    const Config& c = *result.config;
    CHECK(result.errors.empty());
    CHECK(result.version == 0);
    CHECK(c.version == 0);
    CHECK(c.node.id == "scj-01");
    CHECK(c.node.department == "11540100MB00000008");
    CHECK(c.node.department_name.empty());
    CHECK(c.uplink.endpoints == Lines{"https://127.0.0.1:8443"});
    CHECK(c.uplink.server_name == "platform.xchg.test");
    CHECK(c.uplink.ca_file == "/etc/xnode/pki/ca.pem");  // relative: from the file's directory
    CHECK(c.uplink.cert_file == "/etc/xnode/pki/node.pem");
    CHECK(c.uplink.key_file == "/etc/xnode/pki/node.key");
    CHECK(c.uplink.crl_file.empty());
    CHECK(c.uplink.pins.empty());
    CHECK(c.uplink.proxy.empty());
    CHECK(c.uplink.tls_min_version == TlsVersion::tls1_2);
    CHECK(c.uplink.connect_timeout == 5s);
    CHECK(c.uplink.handshake_timeout == 10s);
    CHECK(c.uplink.request_timeout == 30s);
    CHECK(c.uplink.idle_timeout == 100s);
    CHECK(c.uplink.backoff_initial == 500ms);
    CHECK(c.uplink.backoff_max == 2s);
    CHECK(c.uplink.forbidden_backoff == 10min);
    CHECK(c.uplink.max_batch_records == 2000);
    CHECK(c.uplink.max_batch_bytes == 1u << 20);
    CHECK(c.uplink.gzip == false);
    CHECK(c.uplink.max_response_bytes == 1u << 20);
    CHECK(c.queue.path == "/var/lib/xnode/queue.db");
    CHECK(c.queue.durability == Durability::full);
    CHECK(c.queue.max_bytes == 512ull << 20);
    CHECK(c.queue.on_full == OnFull::block);
    CHECK(c.queue.linger == 5ms);
    CHECK(c.catalog.dir == "/etc/xnode/catalog.d");
    CHECK(c.catalog.overdue_grace == 24h);
    CHECK(c.catalog.review_warning == 365 * 24h);
    CHECK(c.sources.empty());
    CHECK(c.health.interval == 60s);
    CHECK(c.health.probe_interval == 10s);
    CHECK(c.health.prometheus_listen.empty());
    CHECK(c.health.status_file == "/run/xnode/status.json");
    CHECK(c.health.alarms.link_down_after == 60s);
    CHECK(c.health.alarms.backlog_age == 1h);
    CHECK(c.health.alarms.disk_free_min == 1ull << 30);
    CHECK(c.health.alarms.cert_expiry_warning == 30 * 24h);
    CHECK(c.health.alarms.clock_offset_max == 2s);
    CHECK(c.health.alarms.clear_after == 30s);
    CHECK(c.audit.path == "/var/lib/xnode/audit.db");
    CHECK(c.audit.retention_days == 1095);
    CHECK(c.audit.max_bytes == 1ull << 30);
    CHECK(c.quarantine.retention == 90 * 24h);
    CHECK(c.config_push.require_signature == false);
    CHECK(c.config_push.public_key.empty());
    CHECK(c.log.level == LogLevel::info);
  }

  TEST_CASE("every key set explicitly is taken as written") {
    const std::string text = R"(version: 12
node:
  id: gaj-01
  department: 91350100M000100Y43
  department_name: 拉萨市公安局
uplink:
  endpoints:
    - https://xchg-a.example.gov:8443
    - https://[::1]:9443/
  server_name: xchg.example.gov
  ca_file: /etc/xnode/pki/ca.pem
  cert_file: /etc/xnode/pki/node.pem
  key_file: /etc/xnode/pki/node.key
  crl_file: pki/platform.crl
  pins: [AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA]
  proxy: http://10.1.2.3:3128
  tls_min_version: "1.3"
  connect_timeout: 2s
  handshake_timeout: 4s
  request_timeout: 1m
  idle_timeout: 90s
  backoff_initial: 1s
  backoff_max: 5m
  forbidden_backoff: 1h
  max_batch_records: 500
  max_batch_bytes: 4MiB
  gzip: true
  max_response_bytes: 2MB
queue:
  path: state/queue.db
  durability: normal
  max_bytes: 2GiB
  on_full: drop_oldest
  linger: 20ms
catalog:
  dir: catalog.d
  overdue_grace: 12h
  review_warning: 180d
sources:
  - name: enterprise-spool
    driver: spool
    resource: 101003/11540100MB00000008-00001
    settings:
      dir: /var/lib/xnode/spool/enterprise
      format: ndjson
      on_done: move
      done_dir: /var/lib/xnode/spool/done
  - name: probe
    driver: probe
    resource: 201001/91350100M000100Y43-00002
    enabled: false
    settings: {root: data}
health:
  interval: 30s
  probe_interval: 5s
  prometheus_listen: "[::1]:9464"
  status_file: /run/xnode/s.json
  alarms:
    link_down_after: 2m
    backlog_age: 30m
    disk_free_min: 500MB
    cert_expiry_warning: 60d
    clock_offset_max: 500ms
    clear_after: 1m
audit:
  path: /var/lib/xnode/audit2.db
  retention_days: 2000
  max_bytes: 2GiB
quarantine:
  retention: 30d
config_push:
  require_signature: true
  public_key: /etc/xnode/push.pem
log:
  level: debug
)";
    LoadResult result = load(text);
    INFO(first_error(result.errors));
    REQUIRE(result.ok());
    const Config& c = *result.config;
    CHECK(result.version == 12);
    CHECK(c.version == 12);
    CHECK(c.node.department_name == "拉萨市公安局");
    CHECK(c.uplink.endpoints == Lines{"https://xchg-a.example.gov:8443", "https://[::1]:9443/"});
    CHECK(c.uplink.crl_file == "/etc/xnode/pki/platform.crl");
    CHECK(c.uplink.pins == Lines{std::string(64, 'a')});  // stored lower-case
    CHECK(c.uplink.proxy == "http://10.1.2.3:3128");
    CHECK(c.uplink.tls_min_version == TlsVersion::tls1_3);
    CHECK(c.uplink.connect_timeout == 2s);
    CHECK(c.uplink.handshake_timeout == 4s);
    CHECK(c.uplink.request_timeout == 1min);
    CHECK(c.uplink.idle_timeout == 90s);
    CHECK(c.uplink.backoff_initial == 1s);
    CHECK(c.uplink.backoff_max == 5min);
    CHECK(c.uplink.forbidden_backoff == 1h);
    CHECK(c.uplink.max_batch_records == 500);
    CHECK(c.uplink.max_batch_bytes == 4u << 20);
    CHECK(c.uplink.gzip);
    CHECK(c.uplink.max_response_bytes == 2'000'000u);
    CHECK(c.queue.path == "/etc/xnode/state/queue.db");
    CHECK(c.queue.durability == Durability::normal);
    CHECK(c.queue.max_bytes == 2ull << 30);
    CHECK(c.queue.on_full == OnFull::drop_oldest);
    CHECK(c.queue.linger == 20ms);
    CHECK(c.catalog.dir == "/etc/xnode/catalog.d");
    CHECK(c.catalog.overdue_grace == 12h);
    CHECK(c.catalog.review_warning == 180 * 24h);
    REQUIRE(c.sources.size() == 2);
    CHECK(c.sources[0].name == "enterprise-spool");
    CHECK(c.sources[0].driver == "spool");
    CHECK(c.sources[0].resource == "101003/11540100MB00000008-00001");
    CHECK(c.sources[0].enabled);
    CHECK(c.sources[0].settings.get_string("dir") == "/var/lib/xnode/spool/enterprise");
    CHECK(c.sources[0].settings.get_string("format") == "ndjson");
    CHECK(c.sources[0].settings.get_string("on_done") == "move");
    CHECK(c.sources[0].settings.get_string("done_dir") == "/var/lib/xnode/spool/done");
    CHECK_FALSE(c.sources[0].settings.has("failed_dir"));
    CHECK(c.sources[1].enabled == false);
    CHECK(c.sources[1].settings.get_string("root") == "/etc/xnode/data");
    CHECK(c.sources[1].settings.get_int("workers") == 2);
    CHECK(c.health.interval == 30s);
    CHECK(c.health.probe_interval == 5s);
    CHECK(c.health.prometheus_listen == "[::1]:9464");
    CHECK(c.health.status_file == "/run/xnode/s.json");
    CHECK(c.health.alarms.link_down_after == 2min);
    CHECK(c.health.alarms.backlog_age == 30min);
    CHECK(c.health.alarms.disk_free_min == 500'000'000u);
    CHECK(c.health.alarms.cert_expiry_warning == 60 * 24h);
    CHECK(c.health.alarms.clock_offset_max == 500ms);
    CHECK(c.health.alarms.clear_after == 1min);
    CHECK(c.audit.path == "/var/lib/xnode/audit2.db");
    CHECK(c.audit.retention_days == 2000);
    CHECK(c.audit.max_bytes == 2ull << 30);
    CHECK(c.quarantine.retention == 30 * 24h);
    CHECK(c.config_push.require_signature);
    CHECK(c.config_push.public_key == "/etc/xnode/push.pem");
    CHECK(c.log.level == LogLevel::debug);
  }

  TEST_CASE("the SHA-256 is over the file bytes, also when the file is invalid") {
    LoadResult good = load(kMinimal);
    CHECK(good.sha256 == xnode::Sha256::hex(kMinimal));
    CHECK(good.sha256.size() == 64);
    const std::string bad = "version: 7\n" + kMinimal + "bogus: 1\n";
    LoadResult invalid = load(bad);
    CHECK_FALSE(invalid.ok());
    CHECK(invalid.sha256 == xnode::Sha256::hex(bad));
    CHECK(invalid.version == 7);  // reported in health as the version that was refused
  }

  TEST_CASE("a value below its minimum names file, line, column, key and limit") {
    CHECK(errors_of(kMinimal + "queue:\n  max_bytes: 1MiB\n") ==
          Lines{"xnode.yaml:11:14: queue.max_bytes: must be at least 16MiB (got 1MiB)"});
  }

  TEST_CASE("each kind of bad value has its own exact message") {
    CHECK(errors_of(kMinimal + "queue:\n  max_bytes: 12 parsecs\n") ==
          Lines{"xnode.yaml:11:14: queue.max_bytes: must be a size such as 512MiB, 16KiB or 4096 (got \"12 parsecs\")"});
    CHECK(errors_of(kMinimal + "queue:\n  linger: 10\n") ==
          Lines{"xnode.yaml:11:11: queue.linger: must be a duration such as 250ms, 30s, 5m, 2h or 1d (got \"10\")"});
    CHECK(errors_of(kMinimal + "queue:\n  linger: 2s\n") ==
          Lines{"xnode.yaml:11:11: queue.linger: must be at most 1s (got 2s)"});
    CHECK(errors_of(kMinimal + "queue:\n  durability: fast\n") ==
          Lines{"xnode.yaml:11:15: queue.durability: must be one of full, normal (got \"fast\")"});
    CHECK(errors_of(kMinimal + "audit:\n  retention_days: 30\n") ==
          Lines{"xnode.yaml:11:19: audit.retention_days: must be at least 1095 (got 30)"});
    CHECK(errors_of(kMinimal + "audit:\n  retention_days: 3y\n") ==
          Lines{"xnode.yaml:11:19: audit.retention_days: must be an integer (got \"3y\")"});
    CHECK(errors_of("version: -1\n" + kMinimal) == Lines{"xnode.yaml:1:10: version: must be at least 0 (got -1)"});
    CHECK(errors_of(kMinimal + "  gzip: yes\n") ==
          Lines{"xnode.yaml:10:9: uplink.gzip: must be true or false (got \"yes\")"});
    CHECK(errors_of(kMinimal + "  backoff_max: 1h\n") ==
          Lines{"xnode.yaml:10:16: uplink.backoff_max: must be at most 10m (got 1h)"});
    CHECK(errors_of(kMinimal + "  max_batch_records: 0\n") ==
          Lines{"xnode.yaml:10:22: uplink.max_batch_records: must be at least 1 (got 0)"});
    CHECK(errors_of(kMinimal + "  proxy: proxy.gov.test:3128\n") ==
          Lines{"xnode.yaml:10:10: uplink.proxy: must be an http://host:port proxy URL (got \"proxy.gov.test:3128\")"});
    CHECK(errors_of(kMinimal + "  pins: [abc]\n") ==
          Lines{"xnode.yaml:10:10: uplink.pins[0]: must be 64 hex digits (got \"abc\")"});
    CHECK(errors_of(kMinimal + "  connect_timeout: [5s]\n") ==
          Lines{"xnode.yaml:10:20: uplink.connect_timeout: must be a duration such as 250ms, 30s, 5m, 2h or 1d (got a list)"});
    CHECK(errors_of(kMinimal + "health:\n  prometheus_listen: 0.0.0.0:9464\n") ==
          Lines{"xnode.yaml:11:22: health.prometheus_listen: must be a loopback address 127.x.x.x:port or [::1]:port "
                "(got \"0.0.0.0:9464\")"});
    CHECK(errors_of(kMinimal + "log:\n  level: verbose\n") ==
          Lines{"xnode.yaml:11:10: log.level: must be one of error, warning, notice, info, debug (got \"verbose\")"});
    CHECK(errors_of(kMinimal + "health:\n  alarms:\n    backlog_age: 10s\n") ==
          Lines{"xnode.yaml:12:18: health.alarms.backlog_age: must be at least 1m (got 10s)"});
  }

  TEST_CASE("node and uplink identity values are checked") {
    const std::string text = R"(node:
  id: SCJ_01
  department: 11540100MB00000009
uplink:
  endpoints: [http://127.0.0.1:8443, "https://127.0.0.1:99999"]
  server_name: platform_xchg.test
  ca_file: ""
  cert_file: /etc/xnode/pki/node.pem
  key_file: /etc/xnode/pki/node.key
)";
    CHECK(errors_of(text) ==
          Lines{"xnode.yaml:2:7: node.id: must match [a-z0-9][a-z0-9-]{0,62} (got \"SCJ_01\")",
                "xnode.yaml:3:15: node.department: must be a unified social credit code valid per GB 32100 "
                "(got \"11540100MB00000009\")",
                "xnode.yaml:5:15: uplink.endpoints[0]: must be an https://host:port base URL (got \"http://127.0.0.1:8443\")",
                "xnode.yaml:5:38: uplink.endpoints[1]: must be an https://host:port base URL "
                "(got \"https://127.0.0.1:99999\")",
                "xnode.yaml:6:16: uplink.server_name: must be a DNS name (got \"platform_xchg.test\")",
                "xnode.yaml:7:12: uplink.ca_file: must not be empty"});
  }

  TEST_CASE("unknown keys are errors, with a suggestion when one is close") {
    CHECK(errors_of(kMinimal + "queue:\n  max_byte: 1GiB\n  colour: blue\n") ==
          Lines{"xnode.yaml:11:3: queue.max_byte: unknown key (did you mean \"max_bytes\"?)",
                "xnode.yaml:12:3: queue.colour: unknown key (known: path, durability, max_bytes, on_full, linger)"});
    CHECK(errors_of(kMinimal + "metrics:\n  port: 9464\n") ==
          Lines{"xnode.yaml:10:1: metrics: unknown key (known: version, node, uplink, queue, catalog, sources, health, "
                "audit, quarantine, config_push, log)"});
  }

  TEST_CASE("a key given twice is an error naming the first") {
    CHECK(errors_of(kMinimal + "queue:\n  linger: 5ms\n  linger: 6ms\n") ==
          Lines{"xnode.yaml:12:3: queue.linger: duplicate key (first at 11:3)"});
  }

  TEST_CASE("required keys: missing keys, missing sections, empty file") {
    CHECK(errors_of("node:\n  id: scj-01\nuplink:\n  server_name: a.test\n") ==
          Lines{"xnode.yaml:2:3: node.department: is required", "xnode.yaml:4:3: uplink.endpoints: is required",
                "xnode.yaml:4:3: uplink.ca_file: is required", "xnode.yaml:4:3: uplink.cert_file: is required",
                "xnode.yaml:4:3: uplink.key_file: is required"});
    const Lines everything_missing{"xnode.yaml:1:1: node.id: is required",
                                   "xnode.yaml:1:1: node.department: is required",
                                   "xnode.yaml:1:1: uplink.endpoints: is required",
                                   "xnode.yaml:1:1: uplink.server_name: is required",
                                   "xnode.yaml:1:1: uplink.ca_file: is required",
                                   "xnode.yaml:1:1: uplink.cert_file: is required",
                                   "xnode.yaml:1:1: uplink.key_file: is required"};
    CHECK(errors_of("") == everything_missing);
    CHECK(errors_of("# only a comment\n") == everything_missing);
    CHECK(errors_of(kMinimal + "  endpoints: []\n").size() == 1);  // duplicate key, see below
  }

  TEST_CASE("lists: at least one endpoint, entries of the right form, duplicates") {
    std::string text = kMinimal;
    text.replace(text.find("[https://127.0.0.1:8443]"), 24, "[]");
    CHECK(errors_of(text) == Lines{"xnode.yaml:5:14: uplink.endpoints: must have at least 1 entry (got 0)"});
    text = kMinimal;
    text.replace(text.find("[https://127.0.0.1:8443]"), 24,
                 "[https://127.0.0.1:8443, {a: b}, \"\"]");
    CHECK(errors_of(text) == Lines{"xnode.yaml:5:39: uplink.endpoints[1]: must be a string (got a mapping)",
                                   "xnode.yaml:5:47: uplink.endpoints[2]: must not be empty"});
    text = kMinimal;
    text.replace(text.find("[https://127.0.0.1:8443]"), 24,
                 "[https://127.0.0.1:8443, \"https://[::1]:8443\", HTTPS://127.0.0.1:8443/]");
    CHECK(errors_of(text) == Lines{"xnode.yaml:5:61: uplink.endpoints[2]: must be an https://host:port base URL "
                                   "(got \"HTTPS://127.0.0.1:8443/\")"});
    text = kMinimal;
    text.replace(text.find("[https://127.0.0.1:8443]"), 24,
                 "[https://127.0.0.1:8443, \"https://[::1]:8443\", https://127.0.0.1:8443/]");
    CHECK(errors_of(text) == Lines{"xnode.yaml:5:61: uplink.endpoints[2]: duplicate endpoint (also at 5:15)"});
    text = kMinimal;
    text.replace(text.find("[https://127.0.0.1:8443]"), 24, "https://127.0.0.1:8443");
    CHECK(errors_of(text) == Lines{"xnode.yaml:5:14: uplink.endpoints: must be a list of strings "
                                   "(got \"https://127.0.0.1:8443\")"});
  }

  TEST_CASE("sections of the wrong form") {
    CHECK(errors_of(kMinimal + "queue: [a, b]\n") ==
          Lines{"xnode.yaml:10:8: queue: must be a mapping (got a list)"});
    CHECK(errors_of(kMinimal + "sources: {name: x}\n") ==
          Lines{"xnode.yaml:10:10: sources: must be a list of mappings (got a mapping)"});
    CHECK(errors_of(kMinimal + "sources: [x]\n") ==
          Lines{"xnode.yaml:10:11: sources[0]: must be a mapping (got \"x\")"});
    CHECK(errors_of("- a\n- b\n") ==
          Lines{"xnode.yaml:1:1: the configuration must be a mapping of sections (node:, uplink:, …)"});
  }

  TEST_CASE("an empty value means the default") {
    LoadResult result = load(kMinimal + "queue:\n  max_bytes:\n  linger: ~\nhealth:\n");
    REQUIRE(result.ok());
    CHECK(result.config->queue.max_bytes == 512ull << 20);
    CHECK(result.config->queue.linger == 5ms);
    CHECK(result.config->health.interval == 60s);
  }

  TEST_CASE("cross-field rules name the key and position") {
    CHECK(errors_of(kMinimal + "  backoff_initial: 30s\n") ==
          Lines{"xnode.yaml:10:20: uplink.backoff_initial: must not exceed uplink.backoff_max (2s) (got 30s)"});
    CHECK(errors_of(kMinimal + "config_push:\n  require_signature: true\n") ==
          Lines{"xnode.yaml:11:22: config_push.public_key: is required when config_push.require_signature is true"});
    CHECK(errors_of(kMinimal + "audit:\n  path: /var/lib/xnode/queue.db\n") ==
          Lines{"xnode.yaml:11:9: audit.path: must differ from queue.path (each store locks its own file)"});
  }

  TEST_CASE("sources: names unique, driver known, resource code valid, settings by the driver's schema") {
    const std::string text = kMinimal + R"(sources:
  - name: a
    driver: spool
    resource: 101003/11540100MB00000008-00001
    settings: {dir: /srv/a}
  - name: a
    driver: spool
    resource: 101003/11540100MB00000008-00001
    settings: {dir: /srv/b}
  - name: c
    driver: x
    resource: 101003/11540100MB00000008-0001
  - name: d
    driver: spool
    resource: 101003/11540100MB00000008-00004
  - name: e
    driver: spool
    resource: 101003/11540100MB00000008-00005
    settings:
      dir: /srv/e
      format: xml
      mode: fast
  - driver: probe
    resource: 101003/11540100MB00000008-00006
    settings:
      root: /srv/f
      workers: 64
      buffer: 1KiB
      poll: 2h
      verbose: maybe
      tables: {a: 1}
      headers: [a]
)";
    CHECK(errors_of(text) ==
          Lines{"xnode.yaml:15:11: sources[1].name: duplicate source name \"a\" (also sources[0] at 11:11)",
                "xnode.yaml:20:13: sources[2].driver: unknown driver \"x\" (known: probe, spool)",
                "xnode.yaml:21:15: sources[2].resource: must be a resource code <classification>/<provider USCC>-<5 "
                "digits> (got \"101003/11540100MB00000008-0001\")",
                "xnode.yaml:22:5: sources[3].settings.dir: is required",
                "xnode.yaml:30:15: sources[4].settings.format: must be one of auto, ndjson, csv (got \"xml\")",
                "xnode.yaml:31:7: sources[4].settings.mode: unknown key (known: dir, format, on_done, done_dir, failed_dir)",
                "xnode.yaml:32:5: sources[5].name: is required",
                "xnode.yaml:36:16: sources[5].settings.workers: must be at most 16 (got 64)",
                "xnode.yaml:37:15: sources[5].settings.buffer: must be at least 4KiB (got 1KiB)",
                "xnode.yaml:38:13: sources[5].settings.poll: must be at most 1h (got 2h)",
                "xnode.yaml:39:16: sources[5].settings.verbose: must be true or false (got \"maybe\")",
                "xnode.yaml:40:15: sources[5].settings.tables: must be a list of strings (got a mapping)",
                "xnode.yaml:41:16: sources[5].settings.headers: must be a mapping of strings to strings (got a list)"});
  }

  TEST_CASE("no drivers known: every source names an unknown driver") {
    LoadResult result = load_config_text(
        kMinimal + "sources:\n  - {name: a, driver: spool, resource: 101003/11540100MB00000008-00001}\n",
        "xnode.yaml", DriverSchemas{}, "/etc/xnode");
    CHECK(result.errors == Lines{"xnode.yaml:11:23: sources[0].driver: unknown driver \"spool\" (known: none)"});
  }

  TEST_CASE("all errors of a file come out, in file order") {
    const std::string text = R"(node:
  id: Bad
  department: 11540100MB00000008
  colour: red
uplink:
  endpoints: [https://127.0.0.1:8443]
  server_name: platform.xchg.test
  ca_file: ca.pem
  cert_file: node.pem
  key_file: node.key
queue:
  max_bytes: 1MiB
  on_full: panic
audit:
  retention_days: 365
)";
    CHECK(errors_of(text) ==
          Lines{"xnode.yaml:2:7: node.id: must match [a-z0-9][a-z0-9-]{0,62} (got \"Bad\")",
                "xnode.yaml:4:3: node.colour: unknown key (known: id, department, department_name)",
                "xnode.yaml:12:14: queue.max_bytes: must be at least 16MiB (got 1MiB)",
                "xnode.yaml:13:12: queue.on_full: must be one of block, drop_oldest (got \"panic\")",
                "xnode.yaml:15:19: audit.retention_days: must be at least 1095 (got 365)"});
  }

  TEST_CASE("YAML syntax errors come out as file:line:col") {
    CHECK(errors_of("node:\n  id: scj-01\n  department: [unclosed\n") ==
          Lines{"xnode.yaml:4:1: YAML syntax error: end of sequence flow not found"});
    CHECK(errors_of("node:\n  id: scj-01\n department: x\n") ==
          Lines{"xnode.yaml:3:2: YAML syntax error: end of map not found"});
    CHECK(errors_of("node:\n\tid: scj-01\n") ==
          Lines{"xnode.yaml:2:4: YAML syntax error: illegal map value (line 2 is indented with a tab; YAML "
                "indents with spaces)"});
    CHECK(errors_of("node:\n  id: scj-01\n\tdepartment: x\n") ==
          Lines{"xnode.yaml:3:1: YAML syntax error: illegal tab when looking for indentation"});
    CHECK(errors_of("node: &a\n  id: *b\n") ==
          Lines{"xnode.yaml:2:7: YAML syntax error: the referenced anchor is not defined"});
    CHECK(errors_of("node: {id: a, id2: b\n") == Lines{"xnode.yaml:2:1: YAML syntax error: end of map flow not found"});
    CHECK(errors_of(kMinimal + "---\nnode: {}\n") ==
          Lines{"xnode.yaml:10:1: holds a second YAML document here (one expected)"});
    // yaml-cpp 0.7's LoadAll never returns on these: the loader must answer, not hang.
    CHECK(errors_of(", x\n") == Lines{"xnode.yaml:1:1: YAML syntax error: unexpected \",\""});
    CHECK(errors_of("# comment\n, limits\nversion: 1\n") ==
          Lines{"xnode.yaml:2:1: YAML syntax error: unexpected \",\""});
    CHECK(errors_of(kMinimal + "queue:\n  path: \"\xff\xfe\"\n") == Lines{"xnode.yaml:11:1: not valid UTF-8"});
    const std::string huge = kMinimal + "#" + std::string(kMaxConfigBytes, 'x') + "\n";
    CHECK(errors_of(huge) ==
          Lines{"xnode.yaml:1:1: too large: " + std::to_string(huge.size()) + " bytes (at most 1MiB)"});
  }

  TEST_CASE("load_config_file reads the file and resolves paths against its directory") {
    namespace fs = std::filesystem;
    const fs::path dir = fs::path(XNODE_BINARY_DIR) / "test-core-config" / "etc";
    fs::create_directories(dir);
    const fs::path file = dir / "xnode.yaml";
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << kMinimal << "queue:\n  path: ../state/queue.db\n";
    }
    LoadResult result = load_config_file(file.string(), test::test_drivers());
    INFO(first_error(result.errors));
    REQUIRE(result.ok());
    CHECK(result.config->uplink.ca_file == (dir / "pki/ca.pem").string());
    CHECK(result.config->queue.path == (dir.parent_path() / "state/queue.db").string());
    CHECK(result.sha256 == xnode::Sha256::hex(kMinimal + "queue:\n  path: ../state/queue.db\n"));

    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << kMinimal << "queue:\n  max_bytes: 1MiB\n";
    }
    LoadResult bad = load_config_file(file.string(), test::test_drivers());
    CHECK(bad.errors == Lines{file.string() + ":11:14: queue.max_bytes: must be at least 16MiB (got 1MiB)"});

    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << kMinimal << "#" << std::string(kMaxConfigBytes, 'x') << "\n";
    }
    LoadResult huge = load_config_file(file.string(), test::test_drivers());
    CHECK(huge.errors == Lines{file.string() + ": too large: more than 1MiB (a configuration is a few kilobytes)"});
    CHECK(huge.sha256.empty());

    const std::string missing = (dir / "absent.yaml").string();
    LoadResult absent = load_config_file(missing, test::test_drivers());
    CHECK_FALSE(absent.ok());
    CHECK(absent.errors == Lines{missing + ": cannot open: No such file or directory"});
    CHECK(absent.sha256.empty());
    fs::remove_all(dir.parent_path());
  }
}

// Shared helpers of the platform's unit tests: a service over a real SQLite file in a fresh
// directory, requests built like the node builds them, and a valid two-resource catalog slice.
#pragma once
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <string>
#include <unistd.h>

#include "core/base/json.hpp"
#include "core/base/sha256.hpp"
#include "core/base/time.hpp"
#include "tests/platform/catalog_rules.hpp"
#include "tests/platform/gzip.hpp"
#include "tests/platform/platform_service.hpp"
#include "tests/platform/platform_store.hpp"

namespace xnode::platform::testing {

inline const std::string kNode = "gaj-01";
inline const std::string kStream = "101003/91540100MA6T00012D-00001";
inline const std::string kStreamUrl = "101003%2F91540100MA6T00012D-00001";
inline const std::string kNotShared = "101003/91540100MA6T00012D-00002";
inline const std::string kNotSharedUrl = "101003%2F91540100MA6T00012D-00002";

inline std::filesystem::path fresh_dir(const std::string& name) {
  static std::atomic<int> counter{0};
  auto dir = std::filesystem::path(XNODE_BINARY_DIR) / "test-tmp" /
             ("platform-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

inline std::string resource_json(const std::string& code, const std::string& share) {
  std::string s = R"({"code":")" + code + R"(","name":"企业登记基本信息",
   "classification":{"class":"base","item":"01","sub":"003","detail":""},
   "provider":{"name":"拉萨市市场监督管理局","code":"91540100MA6T00012D","unit":"登记注册科"},
   "abstract":"enterprises","format":{"category":"database","type":"postgresql"},
   "items":[
     {"name":"uscc","title":"统一社会信用代码","type":"C","length":18,"key":true,"identifier":"uscc","required":true},
     {"name":"legal_rep_id","title":"法定代表人身份证号","type":"C","length":18,"identifier":"citizen_id","sensitive":true,"purpose":"identity check for licensing"},
     {"name":"reg_capital","title":"注册资本","type":"Y"},
     {"name":"est_date","title":"成立日期","type":"D"}],)";
  s += share;
  s += R"(,"update_cycle":"daily","published":"2026-03-23","related":[]})";
  return s;
}

inline json::Value slice_resources() {
  std::string text = "[" +
                     resource_json(kNotShared, R"("share":{"type":"none","condition":"","legal_basis":"Art. 9","method":"platform","method_type":"api","usage":""},"open":{"type":"closed","condition":""})") +
                     "," +
                     resource_json(kStream, R"("share":{"type":"conditional","condition":"licensing","legal_basis":"","method":"platform","method_type":"api","usage":"checks"},"open":{"type":"closed","condition":""})") +
                     "]";
  auto v = json::parse(text);
  REQUIRE_MESSAGE(v.ok(), (v.ok() ? "" : v.error().message));
  return *v;
}

inline std::string catalog_body(std::int64_t base, const json::Value& resources) {
  return json::serialize(json::Value(json::Object{
      {"base_version", base}, {"sha256", slice_sha256(resources)}, {"resources", resources}}));
}

inline std::string record(std::int64_t seq, const std::string& uscc = "91350100M000100Y43",
                          const std::string& extra = R"(,"reg_capital":100.5)") {
  return R"({"seq":)" + std::to_string(seq) + R"(,"op":"upsert","key":")" + uscc +
         R"(","at":"2026-03-23T07:59:58+08:00","data":{"uscc":")" + uscc + "\"" + extra + "}}";
}

inline std::string records(std::int64_t first, std::int64_t count) {
  std::string body;
  for (std::int64_t s = first; s < first + count; ++s) body += record(s) + "\n";
  return body;
}

struct Fixture {
  std::filesystem::path dir;
  std::unique_ptr<PlatformStore> store;
  std::unique_ptr<PlatformService> service;
  ServiceOptions options;
  TimePoint now = from_unix_ms(1774224000000);  // 2026-03-23T00:00:00Z

  explicit Fixture(const std::string& name, ServiceOptions o = {}) : dir(fresh_dir(name)), options(o) { open(); }

  void open() {
    service.reset();
    store.reset();
    store = std::make_unique<PlatformStore>((dir / "platform.db").string());
    service = std::make_unique<PlatformService>(*store, options);
  }

  Response call(const std::string& method, const std::string& target, std::string body = {}, Headers headers = {},
                const std::string& cn = kNode, bool with_node_header = true) {
    Request r;
    r.method = method;
    r.target = target;
    r.body = std::move(body);
    r.peer_cn = cn;
    if (with_node_header) r.headers.emplace_back("X-XN-Node", cn);
    for (auto& h : headers) r.headers.push_back(std::move(h));
    return service->handle(r, now);
  }

  Response batch(const std::string& body, std::int64_t first, std::int64_t count, const std::string& stream_url = kStreamUrl,
                 bool gzipped = false) {
    Headers h{{"X-XN-First-Seq", std::to_string(first)}, {"X-XN-Count", std::to_string(count)},
              {"X-XN-Body-Sha256", Sha256::hex(body)}, {"Content-Type", "application/x-ndjson"}};
    if (gzipped) h.emplace_back("Content-Encoding", "gzip");
    return call("POST", "/xep/v1/streams/" + stream_url + "/batches", gzipped ? gzip(body) : body, h);
  }

  Response batch_of(std::int64_t first, std::int64_t count) { return batch(records(first, count), first, count); }

  void put_catalog() {
    auto r = call("PUT", "/xep/v1/catalog", catalog_body(0, slice_resources()));
    REQUIRE_MESSAGE(r.status == 200, r.body);
  }
};

inline json::Value body_of(const Response& r) {
  auto v = json::parse(r.body);
  REQUIRE_MESSAGE(v.ok(), r.body);
  return *v;
}

inline std::string error_of(const Response& r) { return body_of(r).get_string("error"); }

}  // namespace xnode::platform::testing

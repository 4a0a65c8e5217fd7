// xnode-gen-records — writes realistic, distinct government-service records for benchmarks, tests
// and the demo: NDJSON (default) or CSV with a header row, to stdout or to spool files.
//
//   xnode-gen-records [-n N] [--seed S] [--start-id I] [--csv] [--out DIR [--per-file K]]
//
// Every record has: id (integer), name (Chinese), citizen_id (valid GB 11643, real birth date),
// uscc (valid GB 32100), amount (2 decimals), ts (RFC 3339, +08:00), region_code, region_name,
// department, service_item, status, serial (unique). About 316 bytes a line as NDJSON.
// The same seed gives the same records. Files under --out are written as `.NAME.tmp` and renamed
// into place once complete (the spool driver's convention), K records a file.
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "core/base/identifiers.hpp"
#include "core/base/time.hpp"

namespace {

// splitmix64: small, fast, and the same sequence everywhere (std distributions are not portable).
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : m_state(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (m_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  template <typename T, std::size_t N>
  const T& pick(const T (&items)[N]) { return items[below(N)]; }

 private:
  std::uint64_t m_state;
};

struct Region {
  const char* code;
  const char* name;
};

// Real county-level codes (GB/T 2260) and names.
constexpr Region kRegions[] = {
    {"540102", "拉萨市城关区"}, {"540103", "拉萨市堆龙德庆区"}, {"540104", "拉萨市达孜区"},
    {"540121", "拉萨市林周县"}, {"540122", "拉萨市当雄县"}, {"540123", "拉萨市尼木县"},
    {"540124", "拉萨市曲水县"}, {"540127", "拉萨市墨竹工卡县"}, {"540202", "日喀则市桑珠孜区"},
    {"540302", "昌都市卡若区"}, {"540402", "林芝市巴宜区"}, {"540502", "山南市乃东区"},
    {"110101", "北京市东城区"}, {"110105", "北京市朝阳区"}, {"110108", "北京市海淀区"}, {"310104", "上海市徐汇区"},
    {"310115", "上海市浦东新区"}, {"440106", "广州市天河区"}, {"440305", "深圳市南山区"},
    {"330106", "杭州市西湖区"}, {"320102", "南京市玄武区"}, {"510107", "成都市武侯区"},
    {"420106", "武汉市武昌区"}, {"610113", "西安市雁塔区"}, {"630102", "西宁市城东区"},
    {"500103", "重庆市渝中区"}, {"120101", "天津市和平区"}, {"370102", "济南市历下区"},
    {"410105", "郑州市金水区"}, {"430104", "长沙市岳麓区"}, {"350102", "福州市鼓楼区"},
    {"530102", "昆明市五华区"},
};

constexpr const char* kSurnames[] = {
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高",
    "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾", "肖", "田", "董", "袁",
    "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢", "姜", "崔",
    "欧阳", "司马", "诸葛", "扎西", "次仁", "格桑", "索朗", "达瓦", "尼玛", "旦增",
};
constexpr const char* kGiven[] = {
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀",
    "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "建", "国", "文", "辉", "宇", "浩", "鑫", "鹏", "婷", "雪",
    "琳", "晨", "欣", "怡", "佳", "博", "嘉", "子", "睿", "思", "梓", "泽", "瑞", "航", "卓玛", "央金", "拉姆",
    "措姆", "多吉", "平措", "顿珠", "德吉", "曲珍", "白玛", "志", "红", "春", "海", "云", "峰", "亮", "斌",
};
constexpr const char* kDepartments[] = {
    "市场监督管理局", "公安局", "人力资源和社会保障局", "民政局", "税务局",
    "住房和城乡建设局", "卫生健康委员会", "教育局", "交通运输局", "自然资源局",
    "生态环境局", "文化和旅游局", "医疗保障局", "商务局", "农业农村局",
    "司法局",
};
constexpr const char* kServiceItems[] = {
    "企业设立登记", "企业变更登记", "企业注销登记", "个体工商户登记", "食品经营许可", "居民身份证换领",
    "户口迁移登记", "社会保险参保登记", "失业保险金申领", "养老保险待遇核定", "婚姻登记", "最低生活保障审批",
    "税务登记", "增值税发票领用", "建筑工程施工许可", "商品房预售许可", "医师执业注册", "护士执业注册",
    "教师资格认定", "道路运输经营许可", "机动车驾驶证换证", "不动产登记", "建设用地规划许可",
    "排污许可证核发", "旅行社业务经营许可", "医疗费用报销", "对外贸易经营者备案", "农药经营许可",
    "法律援助申请", "公证事项办理", "残疾人证核发", "出生医学证明办理",
};
constexpr const char* kStatuses[] = {"received", "accepted", "review", "approved", "rejected", "done", "returned"};

// GB 32100 code alphabet (no I O S V Z).
constexpr char kUsccAlphabet[] = "0123456789ABCDEFGHJKLMNPQRTUWXY";

// GB 11714 organisation code check character for 8 characters of the USCC alphabet.
char org_code_check(std::string_view first8) {
  static constexpr int kWeights[8] = {3, 7, 9, 10, 5, 8, 4, 2};
  int sum = 0;
  for (std::size_t i = 0; i < 8; ++i) {
    const char c = first8[i];
    const int v = c <= '9' ? c - '0' : c - 'A' + 10;
    sum += v * kWeights[i];
  }
  const int check = 11 - sum % 11;
  return check == 10 ? 'X' : check == 11 ? '0' : static_cast<char>('0' + check);
}

struct Record {
  std::uint64_t id;
  std::string name, citizen_id, uscc, amount, ts, region_code, region_name, department, service_item, status, serial;
};

Record make_record(Rng& rng, std::uint64_t id) {
  Record r;
  r.id = id;
  const Region& region = rng.pick(kRegions);
  r.region_code = region.code;
  r.region_name = region.name;
  r.name = rng.pick(kSurnames);
  r.name += rng.pick(kGiven);
  if (rng.below(3) != 0) r.name += rng.pick(kGiven);

  // Citizen ID: area, a real birth date (1950-2007), sequence, check character.
  for (;;) {
    const int year = 1950 + static_cast<int>(rng.below(58));
    const int month = 1 + static_cast<int>(rng.below(12));
    const int day = 1 + static_cast<int>(rng.below(31));
    if (!xnode::valid_ymd(year, month, day)) continue;
    char first17[64];  // 17 used; room for what -Wformat-truncation assumes of the ints
    std::snprintf(first17, sizeof first17, "%s%04d%02d%02d%03u", region.code, year, month, day,
                  static_cast<unsigned>(rng.below(1000)));
    r.citizen_id = std::string(first17, 17);
    r.citizen_id += xnode::identifiers::citizen_id_check(r.citizen_id);
    break;
  }

  // Credit code: 9 (market regulation) + 1/2/3 (enterprise / individual / farmers' co-op) + area +
  // organisation code (8 characters and its GB 11714 check) + GB 32100 check.
  std::string org;
  for (int i = 0; i < 8; ++i) org += kUsccAlphabet[rng.below(sizeof kUsccAlphabet - 1)];
  org += org_code_check(org);
  std::string first17 = "9";
  first17 += static_cast<char>('1' + rng.below(3));
  first17 += region.code;
  first17 += org;
  r.uscc = first17 + xnode::identifiers::uscc_check(first17);

  // Fees and payments: mostly small, some large.
  const std::uint64_t cents = rng.below(4) == 0 ? rng.below(10'000'000) : rng.below(50'000);
  char amount[32];
  std::snprintf(amount, sizeof amount, "%llu.%02llu", static_cast<unsigned long long>(cents / 100),
                static_cast<unsigned long long>(cents % 100));
  r.amount = amount;

  // Times move forward with the id (a day of service counters), in Beijing time.
  const std::int64_t base = 1772323200;  // 2026-03-01T00:00:00Z
  const std::int64_t at = base + static_cast<std::int64_t>(id) * 3 + static_cast<std::int64_t>(rng.below(3)) + 8 * 3600;
  const std::int64_t days = at / 86400;
  const std::int64_t secs = at % 86400;
  // civil_from_days (Howard Hinnant's algorithm), for the local date.
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char ts[128];
  std::snprintf(ts, sizeof ts, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lld+08:00", static_cast<long long>(y),
                static_cast<long long>(m), static_cast<long long>(d), static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  r.ts = ts;

  r.department = rng.pick(kDepartments);
  r.service_item = rng.pick(kServiceItems);
  r.status = rng.pick(kStatuses);
  char serial[128];
  std::snprintf(serial, sizeof serial, "%s%02lld%02lld%08llu", region.code,
                static_cast<long long>(m), static_cast<long long>(d), static_cast<unsigned long long>(id));
  r.serial = serial;
  return r;
}

void append_ndjson(std::string& out, const Record& r) {
  // No value needs escaping: the tables above hold no quotes, backslashes or control characters.
  out += "{\"id\":";
  out += std::to_string(r.id);
  auto member = [&out](const char* key, const std::string& value, bool quoted) {
    out += ",\"";
    out += key;
    out += "\":";
    if (quoted) out += '"';
    out += value;
    if (quoted) out += '"';
  };
  member("name", r.name, true);
  member("citizen_id", r.citizen_id, true);
  member("uscc", r.uscc, true);
  member("amount", r.amount, false);
  member("ts", r.ts, true);
  member("region_code", r.region_code, true);
  member("region_name", r.region_name, true);
  member("department", r.department, true);
  member("service_item", r.service_item, true);
  member("status", r.status, true);
  member("serial", r.serial, true);
  out += "}\n";
}

constexpr const char* kCsvHeader =
    "id,name,citizen_id,uscc,amount,ts,region_code,region_name,department,service_item,status,serial\n";

void append_csv(std::string& out, const Record& r) {
  for (const std::string* v : {&r.name, &r.citizen_id, &r.uscc, &r.amount, &r.ts, &r.region_code, &r.region_name,
                               &r.department, &r.service_item, &r.status, &r.serial}) {
    if (v == &r.name) out += std::to_string(r.id);
    out += ',';
    out += *v;
  }
  out += '\n';
}

[[noreturn]] void usage(const char* why) {
  std::fprintf(stderr,
               "xnode-gen-records: %s\n"
               "usage: xnode-gen-records [-n N] [--seed S] [--start-id I] [--csv] [--out DIR [--per-file K]]\n",
               why);
  std::exit(2);
}

std::uint64_t number_arg(int& i, int argc, char** argv) {
  if (i + 1 >= argc) usage((std::string(argv[i]) + " needs a value").c_str());
  char* end = nullptr;
  errno = 0;
  const unsigned long long v = std::strtoull(argv[++i], &end, 10);
  if (errno != 0 || !end || *end != '\0' || argv[i][0] == '-') usage((std::string("not a number: ") + argv[i]).c_str());
  return v;
}

bool write_all(std::FILE* f, const std::string& data) {
  return std::fwrite(data.data(), 1, data.size(), f) == data.size();
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t count = 1000, seed = 1, start_id = 1, per_file = 10000;
  bool csv = false;
  std::string out_dir;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "-n" || a == "--count") count = number_arg(i, argc, argv);
    else if (a == "--seed") seed = number_arg(i, argc, argv);
    else if (a == "--start-id") start_id = number_arg(i, argc, argv);
    else if (a == "--per-file") per_file = number_arg(i, argc, argv);
    else if (a == "--csv") csv = true;
    else if (a == "--out") {
      if (i + 1 >= argc) usage("--out needs a directory");
      out_dir = argv[++i];
    } else if (a == "-h" || a == "--help") usage("writes generated records");
    else usage((std::string("unknown argument: ") + argv[i]).c_str());
  }
  if (per_file == 0) usage("--per-file must be at least 1");

  Rng rng(seed);
  std::string buffer;
  buffer.reserve(1 << 20);
  const char* ext = csv ? "csv" : "ndjson";

  if (out_dir.empty()) {
    if (csv) buffer += kCsvHeader;
    for (std::uint64_t n = 0; n < count; ++n) {
      const Record r = make_record(rng, start_id + n);
      csv ? append_csv(buffer, r) : append_ndjson(buffer, r);
      if (buffer.size() >= (1 << 20)) {
        if (!write_all(stdout, buffer)) return 1;
        buffer.clear();
      }
    }
    if (!write_all(stdout, buffer) || std::fflush(stdout) != 0) {
      std::fprintf(stderr, "xnode-gen-records: write to stdout failed: %s\n", std::strerror(errno));
      return 1;
    }
    return 0;
  }

  std::uint64_t written = 0;
  for (std::uint64_t file = 1; written < count; ++file) {
    char name[64];
    std::snprintf(name, sizeof name, "records-s%llu-%06llu.%s", static_cast<unsigned long long>(seed),
                  static_cast<unsigned long long>(file), ext);
    const std::string final_path = out_dir + "/" + name;
    const std::string temp_path = out_dir + "/." + name + ".tmp";
    std::FILE* f = std::fopen(temp_path.c_str(), "wb");
    if (!f) {
      std::fprintf(stderr, "xnode-gen-records: cannot create %s: %s\n", temp_path.c_str(), std::strerror(errno));
      return 1;
    }
    buffer.clear();
    if (csv) buffer += kCsvHeader;
    bool ok = true;
    for (std::uint64_t k = 0; k < per_file && written < count; ++k, ++written) {
      const Record r = make_record(rng, start_id + written);
      csv ? append_csv(buffer, r) : append_ndjson(buffer, r);
      if (buffer.size() >= (1 << 20)) {
        ok = ok && write_all(f, buffer);
        buffer.clear();
      }
    }
    ok = ok && write_all(f, buffer);
    ok = (std::fclose(f) == 0) && ok;
    if (!ok || std::rename(temp_path.c_str(), final_path.c_str()) != 0) {
      std::fprintf(stderr, "xnode-gen-records: writing %s failed: %s\n", final_path.c_str(), std::strerror(errno));
      return 1;
    }
  }
  return 0;
}

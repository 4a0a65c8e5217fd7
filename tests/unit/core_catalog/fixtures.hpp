// Shared test data: a valid resource built in code, and the example slice's path.
#pragma once
#include <string>

#include "core/catalog/resource.hpp"

namespace xnode::catalog::test {

inline const std::string kProvider = "11540100MB00000081";
inline const std::string kExampleDir = std::string(XNODE_SOURCE_DIR) + "/conf/catalog.d";

// The §4 example resource, with this project's provider code: valid under every rule.
inline Resource valid_resource() {
  Resource r;
  r.code = "101003/" + kProvider + "-00001";
  r.name = "企业登记基本信息";
  r.classification = {ClassKind::base, "01", "003", ""};
  r.provider = {"拉萨市市场监督管理局", kProvider, "登记注册科"};
  r.abstract_text = "企业登记基本信息";
  r.format = {FormatCategory::database, "postgresql"};
  Item uscc;
  uscc.name = "uscc";
  uscc.title = "统一社会信用代码";
  uscc.type = ItemType::C;
  uscc.length = 18;
  uscc.key = true;
  uscc.required = true;
  uscc.identifier = IdentifierKind::uscc;
  Item legal_rep_id;
  legal_rep_id.name = "legal_rep_id";
  legal_rep_id.title = "法定代表人身份证号";
  legal_rep_id.type = ItemType::C;
  legal_rep_id.length = 18;
  legal_rep_id.identifier = IdentifierKind::citizen_id;
  legal_rep_id.sensitive = true;
  legal_rep_id.purpose = "identity check for licensing";
  Item reg_capital;
  reg_capital.name = "reg_capital";
  reg_capital.title = "注册资本";
  reg_capital.type = ItemType::Y;
  Item est_date;
  est_date.name = "est_date";
  est_date.title = "成立日期";
  est_date.type = ItemType::D;
  r.items = {uscc, legal_rep_id, reg_capital, est_date};
  r.share.type = ShareType::conditional;
  r.share.condition = "仅向审批部门共享";
  r.share.method = ShareMethod::platform;
  r.share.method_type = MethodType::api;
  r.share.usage = "主体资格核验";
  r.open.type = OpenType::closed;
  r.update_cycle = UpdateCycle::daily;
  r.published = "2026-03-23";
  return r;
}

}  // namespace xnode::catalog::test

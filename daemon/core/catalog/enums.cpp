#include "core/catalog/enums.hpp"

namespace xnode::catalog {

namespace {
constexpr EnumEntry<ClassKind> kClassKinds[] = {
    {ClassKind::base, "base", "基础"},
    {ClassKind::theme, "theme", "主题"},
    {ClassKind::department, "department", "部门"},
};
constexpr EnumEntry<FormatCategory> kFormatCategories[] = {
    {FormatCategory::document, "document", "电子文件"},
    {FormatCategory::spreadsheet, "spreadsheet", "电子表格"},
    {FormatCategory::database, "database", "数据库"},
    {FormatCategory::image, "image", "图形图像"},
    {FormatCategory::stream, "stream", "流媒体"},
    {FormatCategory::self_describing, "self_describing", "自描述格式"},
    {FormatCategory::service, "service", "服务接口"},
    {FormatCategory::other, "other", "其他"},
};
constexpr EnumEntry<ItemType> kItemTypes[] = {
    {ItemType::C, "C", "字符"}, {ItemType::M, "M", "备注"}, {ItemType::N, "N", "数值"},
    {ItemType::Y, "Y", "货币"}, {ItemType::B, "B", "双精度"}, {ItemType::F, "F", "浮点"},
    {ItemType::I, "I", "整型"}, {ItemType::D, "D", "日期"}, {ItemType::T, "T", "日期时间"},
    {ItemType::L, "L", "逻辑"}, {ItemType::G, "G", "通用"},
};
// `none` has no code on the wire (the member is absent); it is listed so code_of/label_of work.
constexpr EnumEntry<IdentifierKind> kIdentifierKinds[] = {
    {IdentifierKind::citizen_id, "citizen_id", "公民身份号码"},
    {IdentifierKind::uscc, "uscc", "统一社会信用代码"},
};
constexpr EnumEntry<ShareType> kShareTypes[] = {
    {ShareType::unconditional, "unconditional", "无条件共享"},
    {ShareType::conditional, "conditional", "有条件共享"},
    {ShareType::none, "none", "不予共享"},
};
constexpr EnumEntry<ShareMethod> kShareMethods[] = {
    {ShareMethod::platform, "platform", "共享平台方式"},
    {ShareMethod::mail, "mail", "邮件方式"},
    {ShareMethod::media, "media", "介质方式"},
};
constexpr EnumEntry<MethodType> kMethodTypes[] = {
    {MethodType::database, "database", "数据库"},
    {MethodType::api, "api", "接口"},
    {MethodType::file, "file", "文件"},
};
constexpr EnumEntry<OpenType> kOpenTypes[] = {
    {OpenType::open, "open", "无条件开放"},
    {OpenType::conditional, "conditional", "有条件开放"},
    {OpenType::closed, "closed", "不予开放"},
};
constexpr EnumEntry<UpdateCycle> kUpdateCycles[] = {
    {UpdateCycle::realtime, "realtime", "实时"},     {UpdateCycle::daily, "daily", "每日"},
    {UpdateCycle::weekly, "weekly", "每周"},         {UpdateCycle::monthly, "monthly", "每月"},
    {UpdateCycle::quarterly, "quarterly", "每季度"}, {UpdateCycle::half_yearly, "half_yearly", "每半年"},
    {UpdateCycle::yearly, "yearly", "每年"},         {UpdateCycle::other, "other", "其他"},
};
}  // namespace

template <> std::span<const EnumEntry<ClassKind>> enum_entries() { return kClassKinds; }
template <> std::span<const EnumEntry<FormatCategory>> enum_entries() { return kFormatCategories; }
template <> std::span<const EnumEntry<ItemType>> enum_entries() { return kItemTypes; }
template <> std::span<const EnumEntry<IdentifierKind>> enum_entries() { return kIdentifierKinds; }
template <> std::span<const EnumEntry<ShareType>> enum_entries() { return kShareTypes; }
template <> std::span<const EnumEntry<ShareMethod>> enum_entries() { return kShareMethods; }
template <> std::span<const EnumEntry<MethodType>> enum_entries() { return kMethodTypes; }
template <> std::span<const EnumEntry<OpenType>> enum_entries() { return kOpenTypes; }
template <> std::span<const EnumEntry<UpdateCycle>> enum_entries() { return kUpdateCycles; }

char class_digit(ClassKind kind) {
  switch (kind) {
    case ClassKind::base: return '1';
    case ClassKind::theme: return '2';
    case ClassKind::department: return '3';
  }
  return '0';
}

}  // namespace xnode::catalog

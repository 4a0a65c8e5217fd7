#include "drivers/spool/spool_settings.hpp"

namespace xnode::drivers::spool {

config::SettingsSchema settings_schema() {
  using namespace xnode::config;
  return SettingsSchema{
      path_key("dir", "Spool directory: complete files are renamed into it").required(),
      enum_key("format", {"auto", "ndjson", "csv"},
               "File format; auto: by extension (.ndjson/.jsonl NDJSON, .csv CSV)")
          .def("auto"),
      enum_key("on_done", {"delete", "move"}, "What happens to a file once all its records are queued")
          .def("delete"),
      path_key("done_dir", "Where on_done: move puts consumed files (default <dir>/done)"),
      path_key("failed_dir", "Where unreadable files go, each with a <name>.reason file (default <dir>/failed)"),
      duration_key("rescan_interval", "Full rescan of the directory, a safety net beside inotify")
          .def("30s")
          .at_least("1s")
          .at_most("1h"),
      integer_key("chunk_records", "Records a batch at most (one queue transaction, one progress mark)")
          .def("500")
          .at_least("1")
          .at_most("100000"),
      integer_key("max_in_flight", "Batches of a file submitted and not yet durable (pipelining)")
          .def("4")
          .at_least("1")
          .at_most("16"),
      size_key("max_line_bytes", "Longest NDJSON line / CSV row taken; longer ones go to the quarantine")
          .def("1MiB")
          .at_least("1KiB")
          .at_most("64MiB"),
  };
}

Expected<SpoolSettings> settings_from(const config::Settings& settings) {
  SpoolSettings out;
  if (!settings.has("dir") || settings.get_string("dir").empty()) return make_error("settings.dir: required");
  out.dir = settings.get_string("dir");
  while (out.dir.size() > 1 && out.dir.back() == '/') out.dir.pop_back();
  if (settings.has("format")) {
    const std::string& f = settings.get_string("format");
    if (f == "ndjson")
      out.format = Format::ndjson;
    else if (f == "csv")
      out.format = Format::csv;
    else if (f == "auto")
      out.format = Format::by_extension;
    else
      return make_error("settings.format: must be one of auto, ndjson, csv (got " + f + ")");
  }
  if (settings.has("on_done")) {
    const std::string& d = settings.get_string("on_done");
    if (d == "move")
      out.on_done = OnDone::move;
    else if (d == "delete")
      out.on_done = OnDone::remove;
    else
      return make_error("settings.on_done: must be one of delete, move (got " + d + ")");
  }
  out.done_dir = settings.has("done_dir") ? settings.get_string("done_dir") : out.dir + "/done";
  out.failed_dir = settings.has("failed_dir") ? settings.get_string("failed_dir") : out.dir + "/failed";
  if (settings.has("rescan_interval")) out.rescan_interval = settings.get_duration("rescan_interval");
  if (settings.has("chunk_records")) out.chunk_records = static_cast<std::size_t>(settings.get_int("chunk_records"));
  if (settings.has("max_in_flight")) out.max_in_flight = static_cast<std::size_t>(settings.get_int("max_in_flight"));
  if (settings.has("max_line_bytes")) out.max_line_bytes = static_cast<std::size_t>(settings.get_size("max_line_bytes"));
  if (out.chunk_records == 0) return make_error("settings.chunk_records: must be at least 1");
  if (out.max_in_flight == 0) return make_error("settings.max_in_flight: must be at least 1");
  if (out.rescan_interval.count() <= 0) return make_error("settings.rescan_interval: must be positive");
  return out;
}

}  // namespace xnode::drivers::spool

#include "app/control_commands.hpp"

#include <boost/asio/post.hpp>
#include <map>

#include "app/quarantine_recheck.hpp"
#include "core/audit/audit_event.hpp"
#include "core/base/log.hpp"
#include "io/queue/quarantine_ops.hpp"

namespace asio = boost::asio;

namespace xnode::app {

namespace {
constexpr std::string_view kLog = "control";
constexpr std::size_t kPage = 200;        // entries a retry step reads and rechecks
constexpr std::size_t kPurgeStep = 500;   // entries a purge step deletes
constexpr std::size_t kListed = 20;       // entries a retry names in its answer
}  // namespace

struct ControlCommands::Job {
  ControlPeer peer;
  std::vector<std::string> argv;
  ControlServer::Reply reply;
  control::QuarantineCommand command;
  io::quarantine_ops::Selection selection;
  std::int64_t after_id = 0;
  std::uint64_t seen = 0, queued = 0, failing = 0, gone = 0, purged = 0;
  std::string output;
  std::string error;  // set: the command failed
  int exit = 0;
};

ControlCommands::ControlCommands(asio::any_io_executor executor, io::QueueStore& store, io::AuditStore& audit,
                                 std::function<const CheckedConfiguration&()> config,
                                 std::function<void(const std::string&, std::uint64_t)> committed)
    : m_executor(std::move(executor)),
      m_store(store),
      m_audit(audit),
      m_config(std::move(config)),
      m_committed(std::move(committed)) {}

void ControlCommands::handle(const ControlPeer& peer, control::Request request, ControlServer::Reply reply) {
  const std::string command = control::command_text(request.argv);
  if (request.mode == control::Mode::note) {
    // xnodectl ran a read-only command itself; the daemon's part is the audit event.
    json::Value d = json::Value::object();
    d.set("gid", static_cast<std::int64_t>(peer.gid));
    d.set("pid", static_cast<std::int64_t>(peer.pid));
    d.set("via", "control_socket");
    if (!request.detail.empty()) d.set("detail", request.detail);
    if (control::is_mutating(request.argv)) {
      // A mutating command is never only noted: it must run here to count.
      m_audit.append(audit::operator_command(peer.uid, command, "refused", std::move(d)), Clock::now());
      reply(control::Response{false, 2, {}, "a note cannot stand for '" + command + "': send it to run"});
      return;
    }
    m_audit.append(audit::operator_command(peer.uid, command, request.result, std::move(d)), Clock::now());
    reply(control::Response{true, 0, {}, {}});
    return;
  }

  auto job = std::make_shared<Job>();
  job->peer = peer;
  job->argv = std::move(request.argv);
  job->reply = std::move(reply);
  auto parsed = control::parse_quarantine_command(job->argv);
  if (!parsed) {
    job->error = control::is_mutating(job->argv) ? parsed.error().message
                                                 : "'" + command + "' is not run by xnoded (xnodectl runs read-only commands itself)";
    job->exit = 2;
    return finish(job);
  }
  job->command = *parsed;
  job->selection.id = parsed->id;
  job->selection.all = parsed->all;
  job->selection.source = parsed->source;
  job->selection.before = parsed->before;
  log::notice(kLog, "uid " + std::to_string(peer.uid) + " (pid " + std::to_string(peer.pid) + "): " + command);
  if (parsed->action == control::QuarantineCommand::Action::retry) retry_step(job);
  else purge_step(job);
}

void ControlCommands::finish(const std::shared_ptr<Job>& job) {
  const std::string command = control::command_text(job->argv);
  const bool ok = job->error.empty();
  json::Value d = json::Value::object();
  d.set("gid", static_cast<std::int64_t>(job->peer.gid));
  d.set("pid", static_cast<std::int64_t>(job->peer.pid));
  d.set("via", "control_socket");
  if (job->command.action == control::QuarantineCommand::Action::retry) {
    d.set("entries", static_cast<std::int64_t>(job->seen));
    d.set("queued", static_cast<std::int64_t>(job->queued));
    d.set("still_failing", static_cast<std::int64_t>(job->failing));
    if (job->gone) d.set("gone_meanwhile", static_cast<std::int64_t>(job->gone));
  } else {
    d.set("purged", static_cast<std::int64_t>(job->purged));
  }
  if (!ok) d.set("error", job->error);
  m_audit.append(audit::operator_command(job->peer.uid, command, ok ? "ok" : "failed", std::move(d)), Clock::now());
  control::Response r;
  r.ok = ok;
  r.exit = ok ? 0 : (job->exit ? job->exit : 1);
  r.output = std::move(job->output);
  r.error = std::move(job->error);
  job->reply(std::move(r));
}

void ControlCommands::purge_step(const std::shared_ptr<Job>& job) {
  m_store.quarantine_work([this, job](io::sqlite::Database* db) {
    Expected<std::int64_t> n = db ? io::quarantine_ops::purge(*db, job->selection, kPurgeStep)
                                  : Expected<std::int64_t>(Error("the queue is closed"));
    asio::post(m_executor, [this, job, n = std::move(n)] {
      if (!n) {
        job->error = "purge: " + n.error().message;
        return finish(job);
      }
      job->purged += static_cast<std::uint64_t>(*n);
      if (static_cast<std::size_t>(*n) == kPurgeStep && !job->selection.id) return purge_step(job);
      if (job->selection.id && job->purged == 0) {
        job->error = "no quarantine entry " + std::to_string(*job->selection.id);
        return finish(job);
      }
      job->output = "purged " + std::to_string(job->purged) + " quarantine entr" + (job->purged == 1 ? "y" : "ies") + "\n";
      finish(job);
    });
  });
}

void ControlCommands::retry_step(const std::shared_ptr<Job>& job) {
  m_store.quarantine_work([this, job](io::sqlite::Database* db) {
    auto page = db ? io::quarantine_ops::select(*db, job->selection, job->after_id, kPage)
                   : Expected<std::vector<io::QuarantineRecord>>(Error("the queue is closed"));
    asio::post(m_executor, [this, job, page = std::move(page)]() mutable {
      if (!page) {
        job->error = "retry: " + page.error().message;
        return finish(job);
      }
      if (page->empty()) {
        if (job->selection.id && job->seen == 0) {
          job->error = "no quarantine entry " + std::to_string(*job->selection.id);
          return finish(job);
        }
        job->output += "retried " + std::to_string(job->seen) + ": " + std::to_string(job->queued) + " queued, " +
                       std::to_string(job->failing) + " still failing" +
                       (job->gone ? ", " + std::to_string(job->gone) + " gone meanwhile" : std::string()) + "\n";
        return finish(job);
      }
      job->after_id = page->back().id;
      const CheckedConfiguration& cfg = m_config();
      const TimePoint now = Clock::now();
      io::IntakeBatch batch;
      std::vector<std::pair<std::int64_t, std::string>> failing;
      for (const auto& e : *page) {
        ++job->seen;
        Recheck r = recheck_quarantined(e, cfg.slice, cfg.config->sources, now);
        const bool listed = job->seen <= kListed;
        if (r.passed) {
          batch.records.push_back({r.stream, std::move(r.tail)});
          batch.quarantine_resolved.push_back(e.id);
          if (listed) job->output += "id " + std::to_string(e.id) + ": passes the checks: queued in " + r.stream + "\n";
        } else {
          if (listed) job->output += "id " + std::to_string(e.id) + ": still fails: " + r.reason + "\n";
          failing.emplace_back(e.id, std::move(r.reason));
        }
      }
      const std::size_t passing = batch.records.size();
      // Still failing: the entry stays, with the reason of today's check.
      auto update_reasons = [this, job, failing = std::move(failing)]() mutable {
        job->failing += failing.size();
        m_store.quarantine_work([this, job, failing = std::move(failing)](io::sqlite::Database* conn) {
          std::string problem;
          for (const auto& [id, reason] : failing) {
            if (!conn) break;
            if (auto ok = io::quarantine_ops::set_reason(*conn, id, reason); !ok) problem = ok.error().message;
          }
          asio::post(m_executor, [this, job, problem] {
            if (!problem.empty()) log::warning(kLog, "keeping the new reason of a quarantine entry failed: " + problem);
            retry_step(job);
          });
        });
      };
      if (passing == 0) return update_reasons();
      std::vector<std::string> streams;
      for (const auto& rec : batch.records) streams.push_back(rec.stream);
      m_store.submit(std::move(batch), [this, job, passing, streams = std::move(streams),
                                        update_reasons = std::move(update_reasons)](io::SubmitResult res) mutable {
        asio::post(m_executor, [this, job, passing, streams = std::move(streams), update_reasons = std::move(update_reasons),
                                res = std::move(res)]() mutable {
          if (res.status == io::SubmitStatus::queue_full) {
            job->error = "the queue is full: nothing of this page was queued; retry later";
            return finish(job);
          }
          if (res.status == io::SubmitStatus::failed) {
            if (res.error.find("gone") == std::string::npos) {
              job->error = "queueing the retried records failed: " + res.error;
              return finish(job);
            }
            // Another retry or a purge took one of them meanwhile: this page is left to it.
            job->gone += passing;
          } else {
            job->queued += passing;
            std::map<std::string, std::uint64_t> last;
            for (std::size_t i = 0; i < streams.size() && i < res.first_seq.size(); ++i) last[streams[i]] = res.first_seq[i];
            for (const auto& [stream, seq] : last) m_committed(stream, seq);
          }
          update_reasons();
        });
      });
    });
  });
}

}  // namespace xnode::app

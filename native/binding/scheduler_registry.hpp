// The process-wide registry of batch schedulers, by name (e.g. "fraud/1").
//
// Every thread that loads the addon (the main thread and each worker_thread) shares this one
// registry, since the module is loaded once per process: that is how a worker's
// BatchScheduler.attach(name) reaches the scheduler the main thread created.
#pragma once

#include <memory>
#include <string>

#include "core/batch_scheduler.hpp"
#include "js_sinks.hpp"

namespace infergate::binding {

// What every JS wrapper of one scheduler shares, whichever thread it lives on.
struct SharedScheduler {
  std::string name;
  std::shared_ptr<sched::Scheduler> core;
  std::shared_ptr<const preprocess::Plan> plan;  // null without preprocessing
  std::shared_ptr<SealedNotifier> notifier;
};

namespace registry {

// False when a scheduler of that name is registered already.
bool Add(const std::shared_ptr<SharedScheduler>& scheduler);
// Null when none is registered under `name`.
std::shared_ptr<SharedScheduler> Find(const std::string& name);
// Removes `scheduler` if it is the one registered under its name.
void Remove(const SharedScheduler& scheduler);

}  // namespace registry
}  // namespace infergate::binding

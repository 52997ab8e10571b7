#include "scheduler_registry.hpp"

#include <mutex>
#include <unordered_map>

namespace infergate::binding::registry {

namespace {

struct Registry {
  std::mutex mu;
  std::unordered_map<std::string, std::shared_ptr<SharedScheduler>> by_name;
};

// Deliberately never destroyed: at process exit, static destructors would close schedulers and join
// timer threads while Node is already tearing its environments down.
Registry& instance() {
  static Registry* registry = new Registry;
  return *registry;
}

}  // namespace

bool Add(const std::shared_ptr<SharedScheduler>& scheduler) {
  Registry& r = instance();
  std::lock_guard lock(r.mu);
  return r.by_name.emplace(scheduler->name, scheduler).second;
}

std::shared_ptr<SharedScheduler> Find(const std::string& name) {
  Registry& r = instance();
  std::lock_guard lock(r.mu);
  auto it = r.by_name.find(name);
  return it == r.by_name.end() ? nullptr : it->second;
}

void Remove(const SharedScheduler& scheduler) {
  Registry& r = instance();
  std::lock_guard lock(r.mu);
  auto it = r.by_name.find(scheduler.name);
  if (it != r.by_name.end() && it->second.get() == &scheduler) r.by_name.erase(it);
}

}  // namespace infergate::binding::registry

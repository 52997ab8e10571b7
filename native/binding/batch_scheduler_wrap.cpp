#include "batch_scheduler_wrap.hpp"
#include "core/ready_signal.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/shm_region.hpp"
#include "preprocess_plan_wrap.hpp"

namespace infergate::binding {

namespace {

// Marks the External that attach() hands to the constructor (napi_type_tag_object).
constexpr napi_type_tag kAttachTag = {0x3f9b1c2d4e5a6b7cULL, 0x8d9e0f1a2b3c4d5eULL};

// This module's data per environment (main thread or worker): the constructor, for attach(), and
// the ports opened on this thread, which submit() checks and which die with the thread.
struct EnvData {
  Napi::FunctionReference constructor;
  std::vector<std::shared_ptr<PortSink>> ports;

  // When the thread goes away, each port's async cleanup hook (PortSink::OnTeardown) closes it in its
  // scheduler and closes its wake-up handle; nothing more to do here.

  PortSink* find(const sched::Scheduler* scheduler, std::uint64_t id) const noexcept {
    for (const auto& sink : ports) {
      if (sink->id() == id && sink->scheduler() == scheduler) return sink.get();
    }
    return nullptr;
  }
};

[[noreturn]] void throw_type(Napi::Env env, const std::string& message) {
  throw Napi::TypeError::New(env, "BatchScheduler: " + message);
}
[[noreturn]] void throw_range(Napi::Env env, const std::string& message) {
  throw Napi::RangeError::New(env, "BatchScheduler: " + message);
}
[[noreturn]] void throw_coded(Napi::Env env, const std::string& message, const char* code) {
  Napi::Error error = Napi::Error::New(env, "BatchScheduler: " + message);
  error.Set("code", Napi::String::New(env, code));
  throw error;
}

constexpr double kMaxSafe = 9007199254740991.0;  // 2^53 - 1

// A JS number as JS would print it for the common cases: integers without a fraction.
std::string number_text(double d) {
  if (d == std::floor(d) && std::fabs(d) <= kMaxSafe) return std::to_string(static_cast<std::int64_t>(d));
  return std::to_string(d);
}

// An integer argument or option in [min, max]; `what` names it in messages.
std::uint64_t integer(Napi::Env env, const Napi::Value& v, const std::string& what, double min, double max) {
  if (!v.IsNumber()) throw_type(env, what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= min && d <= max && d == std::floor(d))) {
    throw_range(env, what + " must be an integer from " + std::to_string(static_cast<std::uint64_t>(min)) + " to " +
                         std::to_string(static_cast<std::uint64_t>(max)));
  }
  return static_cast<std::uint64_t>(d);
}

// Reads the constructor's options object strictly: unknown keys are refused (a typo would
// otherwise silently fall back to a default).
class Options {
 public:
  Options(Napi::Env env, Napi::Object object, std::initializer_list<std::string_view> allowed)
      : env_(env), object_(object) {
    Napi::Array keys = object.GetPropertyNames();
    for (std::uint32_t i = 0; i < keys.Length(); ++i) {
      std::string key = keys.Get(i).As<Napi::String>().Utf8Value();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) throw_type(env, "unknown option \"" + key + "\"");
    }
  }
  bool has(const char* key) const {
    Napi::Value v = object_.Get(key);
    return !v.IsUndefined();
  }
  Napi::Value get(const char* key) const { return object_.Get(key); }
  std::uint64_t integer(const char* key, double min, double max) const {
    if (!has(key)) throw_type(env_, std::string("option ") + key + " is required");
    return binding::integer(env_, get(key), std::string("option ") + key, min, max);
  }
  std::uint64_t integer(const char* key, double min, double max, std::uint64_t fallback) const {
    return has(key) ? integer(key, min, max) : fallback;
  }
  bool boolean(const char* key, bool fallback) const {
    if (!has(key)) return fallback;
    Napi::Value v = get(key);
    if (!v.IsBoolean()) throw_type(env_, std::string("option ") + key + " must be a boolean");
    return v.As<Napi::Boolean>().Value();
  }

 private:
  Napi::Env env_;
  Napi::Object object_;
};

std::uint32_t u32(std::uint64_t v) { return static_cast<std::uint32_t>(v); }

std::shared_ptr<SharedScheduler> create(Napi::Env env, const Napi::Value& arg) {
  if (!arg.IsObject()) throw_type(env, "options must be an object");
  const Options o(env, arg.As<Napi::Object>(),
                  {"name", "maxBatchSize", "maxQueueDelayMicroseconds", "preferredBatchSize", "priorityLevels",
                   "defaultPriorityLevel", "timeoutAction", "defaultTimeoutMicroseconds", "allowTimeoutOverride",
                   "maxQueueSize", "slabCount", "inputWidth", "outputWidth", "plan", "adaptiveDelay",
                   "sparseSealGapMicroseconds", "sharedMemory"});
  auto shared = std::make_shared<SharedScheduler>();
  if (!o.get("name").IsString()) throw_type(env, "option name must be a string");
  shared->name = o.get("name").As<Napi::String>().Utf8Value();
  if (shared->name.empty()) throw_range(env, "option name must not be empty");

  sched::SchedulerConfig c;
  if (o.has("plan")) {
    shared->plan = PreprocessPlanWrap::PlanOf(o.get("plan"));
    if (!shared->plan) throw_type(env, "option plan must be a PreprocessPlan");
    c.plan = shared->plan;
  }
  c.max_batch_size = u32(o.integer("maxBatchSize", 1, 1 << 20));
  c.max_queue_delay_microseconds = o.integer("maxQueueDelayMicroseconds", 0, kMaxSafe, 0);
  if (o.has("preferredBatchSize")) {
    Napi::Value v = o.get("preferredBatchSize");
    if (!v.IsArray()) throw_type(env, "option preferredBatchSize must be an array of integers");
    Napi::Array sizes = v.As<Napi::Array>();
    for (std::uint32_t i = 0; i < sizes.Length(); ++i) {
      c.preferred_batch_size.push_back(
          u32(integer(env, sizes.Get(i), "preferredBatchSize[" + std::to_string(i) + "]", 1, 1 << 20)));
    }
  }
  c.priority_levels = u32(o.integer("priorityLevels", 1, 64, 1));
  c.default_priority_level = u32(o.integer("defaultPriorityLevel", 1, 64, 1));
  if (o.has("timeoutAction")) {
    Napi::Value v = o.get("timeoutAction");
    const std::string action = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
    if (action == "reject") {
      c.default_queue_policy.timeout_action = sched::TimeoutAction::reject;
    } else if (action == "delay") {
      c.default_queue_policy.timeout_action = sched::TimeoutAction::delay;
    } else {
      throw_type(env, "option timeoutAction must be 'reject' or 'delay'");
    }
  }
  c.default_queue_policy.default_timeout_microseconds = o.integer("defaultTimeoutMicroseconds", 0, kMaxSafe, 0);
  c.default_queue_policy.allow_timeout_override = o.boolean("allowTimeoutOverride", false);
  c.default_queue_policy.max_queue_size = u32(o.integer("maxQueueSize", 0, 4294967295.0, 0));
  c.slab_count = u32(o.integer("slabCount", 2, 1 << 16, 16));
  c.input_width = shared->plan && !o.has("inputWidth") ? u32(shared->plan->width())
                                                        : u32(o.integer("inputWidth", 1, 1 << 24));
  c.output_width = u32(o.integer("outputWidth", 1, 1 << 24));
  if (o.has("adaptiveDelay")) {
    Napi::Value v = o.get("adaptiveDelay");
    if (!v.IsObject()) throw_type(env, "option adaptiveDelay must be an object { targetLatencyMicroseconds }");
    const Options adaptive(env, v.As<Napi::Object>(), {"targetLatencyMicroseconds"});
    c.adaptive_target_latency_microseconds = adaptive.integer("targetLatencyMicroseconds", 1, kMaxSafe);
  }

  c.sparse_seal_gap_us = o.integer("sparseSealGapMicroseconds", 0, kMaxSafe, 0);

  c.shared_memory = o.boolean("sharedMemory", false);
  c.shared_memory_tag = shared->name;  // so that a region in /dev/shm says whose it is

  shared->notifier = std::make_shared<SealedNotifier>();
  c.on_sealed = [notifier = shared->notifier] { notifier->Notify(); };
  try {
    shared->core = std::make_shared<sched::Scheduler>(std::move(c));
  } catch (const std::invalid_argument& e) {  // a ConfigError, or a region size past what mmap takes
    throw_range(env, e.what());
  } catch (const shm::ShmError& e) {
    throw_coded(env, e.what(), "ERR_SHARED_MEMORY");
  }
  shared->notifier->set_scheduler(shared->core);
  if (!registry::Add(shared)) {
    shared->core->close();
    throw_coded(env, "a scheduler named \"" + shared->name + "\" already exists", "ERR_SCHEDULER_EXISTS");
  }
  return shared;
}

}  // namespace

void BatchSchedulerWrap::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(
      env, "BatchScheduler",
      {
          StaticMethod<&BatchSchedulerWrap::Attach>("attach"),
          InstanceAccessor<&BatchSchedulerWrap::Name>("name"),
          InstanceAccessor<&BatchSchedulerWrap::InputWidth>("inputWidth"),
          InstanceAccessor<&BatchSchedulerWrap::OutputWidth>("outputWidth"),
          InstanceAccessor<&BatchSchedulerWrap::Fields>("fields"),
          InstanceAccessor<&BatchSchedulerWrap::EstimatedExec>("estimatedExecMicroseconds"),
          InstanceMethod<&BatchSchedulerWrap::OpenPort>("openPort"),
          InstanceMethod<&BatchSchedulerWrap::ClosePort>("closePort"),
          InstanceMethod<&BatchSchedulerWrap::OnSealed>("onSealed"),
          InstanceMethod<&BatchSchedulerWrap::SetSealedCallbacks>("setSealedCallbacks"),
          InstanceMethod<&BatchSchedulerWrap::SetReadySignal>("setReadySignal"),
          InstanceMethod<&BatchSchedulerWrap::Take>("take"),
          InstanceMethod<&BatchSchedulerWrap::Rows>("rows"),
          InstanceMethod<&BatchSchedulerWrap::BatchInfo>("batchInfo"),
          InstanceMethod<&BatchSchedulerWrap::InputView>("inputView"),
          InstanceMethod<&BatchSchedulerWrap::OutputView>("outputView"),
          InstanceMethod<&BatchSchedulerWrap::Complete>("complete"),
          InstanceMethod<&BatchSchedulerWrap::Fail>("fail"),
          InstanceMethod<&BatchSchedulerWrap::SlabAddress>("slabAddress"),
          InstanceMethod<&BatchSchedulerWrap::SharedMemoryRegion>("sharedMemoryRegion"),
          InstanceMethod<&BatchSchedulerWrap::InputOffset>("inputOffset"),
          InstanceMethod<&BatchSchedulerWrap::OutputOffset>("outputOffset"),
          InstanceMethod<&BatchSchedulerWrap::Stats>("stats"),
          InstanceMethod<&BatchSchedulerWrap::RequestStatistics>("requestStatistics"),
          InstanceMethod<&BatchSchedulerWrap::Flush>("flush"),
          InstanceMethod<&BatchSchedulerWrap::StopAdmission>("stopAdmission"),
          InstanceMethod<&BatchSchedulerWrap::Close>("close"),
      });
  auto* data = new EnvData;
  data->constructor = Napi::Persistent(ctor);
  env.SetInstanceData<EnvData>(data);  // deleted when this environment is torn down
  exports.Set("BatchScheduler", ctor);
}

BatchSchedulerWrap::BatchSchedulerWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<BatchSchedulerWrap>(info) {
  Napi::Env env = info.Env();
  if (info.Length() >= 1 && info[0].IsExternal() && info[0].As<Napi::External<void>>().CheckTypeTag(&kAttachTag)) {
    shared_ = *info[0].As<Napi::External<std::shared_ptr<SharedScheduler>>>().Data();
  } else {
    shared_ = create(env, info[0]);
  }
  // submit() is each wrapper's own function, carrying its scheduler as the function's data. As an
  // instance method it first had to find its wrapper's native object (napi_unwrap), a lookup that
  // goes through V8's runtime and took 2-3 % of the host thread's time at 20,000 requests/s.
  auto* target = new std::shared_ptr<SharedScheduler>(shared_);
  Napi::Function submit;
  try {
    submit = Napi::Function::New<&BatchSchedulerWrap::Submit>(env, "submit", target);
    submit.AddFinalizer([](Napi::Env, std::shared_ptr<SharedScheduler>* held) { delete held; }, target);
  } catch (...) {
    delete target;
    throw;
  }
  info.This().As<Napi::Object>().DefineProperty(Napi::PropertyDescriptor::Value("submit", submit, napi_default));
}

Napi::Value BatchSchedulerWrap::Attach(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw_type(env, "attach(name): name must be a string");
  const std::string name = info[0].As<Napi::String>().Utf8Value();
  std::shared_ptr<SharedScheduler> shared = registry::Find(name);
  if (!shared) throw_coded(env, "no scheduler named \"" + name + "\"", "ERR_SCHEDULER_NOT_FOUND");
  auto token = Napi::External<std::shared_ptr<SharedScheduler>>::New(env, &shared);  // read during New only
  token.TypeTag(&kAttachTag);
  return env.GetInstanceData<EnvData>()->constructor.New({token});
}

Napi::Value BatchSchedulerWrap::Name(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), shared_->name); }

Napi::Value BatchSchedulerWrap::InputWidth(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), shared_->core->config().input_width);
}

Napi::Value BatchSchedulerWrap::OutputWidth(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), shared_->core->config().output_width);
}

Napi::Value BatchSchedulerWrap::Fields(const Napi::CallbackInfo& info) {
  if (!shared_->plan) return info.Env().Undefined();
  if (fields_.IsEmpty()) fields_ = Napi::Persistent(BuildPlanFields(info.Env(), *shared_->plan));
  return fields_.Value();
}

Napi::Value BatchSchedulerWrap::EstimatedExec(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), shared_->core->estimated_exec_us());
}

Napi::Value BatchSchedulerWrap::OpenPort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsFunction()) throw_type(env, "openPort(callback): callback must be a function");
  std::shared_ptr<PortSink> sink =
      PortSink::Create(env, info[0], shared_->core->config().output_width, shared_->core->config().max_batch_size,
                       shared_->core);
  std::optional<std::uint64_t> id =
      shared_->core->open_port([sink](std::span<const sched::Completion> done) { sink->Deliver(done); });
  if (!id) {
    sink->Close();
    throw_range(env, "openPort: too many ports are open");
  }
  sink->set_id(*id);
  env.GetInstanceData<EnvData>()->ports.push_back(sink);
  return Napi::Number::New(env, static_cast<double>(*id));
}

Napi::Value BatchSchedulerWrap::ClosePort(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::uint64_t id = integer(env, info[0], "closePort(portId): portId", 0, kMaxSafe);
  auto& ports = env.GetInstanceData<EnvData>()->ports;
  auto it = std::find_if(ports.begin(), ports.end(), [&](const std::shared_ptr<PortSink>& sink) {
    return sink->id() == id && sink->scheduler() == shared_->core.get();
  });
  if (it == ports.end()) return Napi::Boolean::New(env, false);
  shared_->core->close_port(id);
  (*it)->Close();
  ports.erase(it);
  return Napi::Boolean::New(env, true);
}

// The hot path: one call per request, no JS object allocated. Reads its arguments with the C API
// directly, one query each. The scheduler is the function's data (see the constructor).
Napi::Value BatchSchedulerWrap::Submit(const Napi::CallbackInfo& info) {
  napi_env env = info.Env();
  const SharedScheduler& shared = **static_cast<std::shared_ptr<SharedScheduler>*>(info.Data());
  const sched::Scheduler& core = *shared.core;
  const bool with_plan = shared.plan != nullptr;

  napi_typedarray_type type;
  std::size_t length = 0;
  void* data = nullptr;
  // Float64Array: raw records, which the plan preprocesses; Float32Array: preprocessed rows.
  if (napi_get_typedarray_info(env, info[0], &type, &length, &data, nullptr, nullptr) != napi_ok ||
      (type != napi_float32_array && !(with_plan && type == napi_float64_array))) {
    throw_type(info.Env(), with_plan ? "submit: rows must be a Float64Array of raw records or a Float32Array of preprocessed rows"
                                     : "submit: rows must be a Float32Array (the scheduler has no plan)");
  }
  const bool raw_records = type == napi_float64_array;
  double args[4];
  for (std::size_t i = 0; i < 4; ++i) {
    if (napi_get_value_double(env, info[i + 1], &args[i]) != napi_ok) {
      static const char* names[] = {"rowIndex", "portId", "priority", "timeoutMicroseconds"};
      throw_type(info.Env(), std::string("submit: ") + names[i] + " must be a number");
    }
  }
  const std::size_t width = raw_records ? shared.plan->field_count() : core.config().input_width;
  const double row = args[0];
  if (!(row >= 0 && row == std::floor(row) && (row + 1) * static_cast<double>(width) <= static_cast<double>(length))) {
    throw_range(info.Env(), "submit: rowIndex " + number_text(row) + " is not a whole row of raw (" +
                                std::to_string(length) + " values, " + std::to_string(width) + " per row)");
  }
  if (!(args[2] >= 0 && args[2] <= core.config().priority_levels && args[2] == std::floor(args[2]))) {
    throw_range(info.Env(), "submit: priority must be 0 (default) or 1.." + std::to_string(core.config().priority_levels));
  }
  if (!(args[3] >= 0 && args[3] <= kMaxSafe && args[3] == std::floor(args[3]))) {
    throw_range(info.Env(), "submit: timeoutMicroseconds must be a non-negative integer (0: default)");
  }
  // The optional tag comes back with the answer (the callback's `tags`): the submitter's own index.
  double tag = 0;
  if (info.Length() > 5 && !info[5].IsUndefined()) {
    if (napi_get_value_double(env, info[5], &tag) != napi_ok) throw_type(info.Env(), "submit: tag must be a number");
    if (!(tag >= 0 && tag <= 4294967295.0 && tag == std::floor(tag))) {
      throw_range(info.Env(), "submit: tag must be an integer from 0 to 4294967295");
    }
  }
  const auto port = static_cast<std::uint64_t>(args[1]);
  PortSink* sink = info.Env().GetInstanceData<EnvData>()->find(&core, port);
  if (sink == nullptr || static_cast<double>(port) != args[1]) {
    throw_range(info.Env(), "submit: port " + number_text(args[1]) + " is not open on this thread");
  }

  const sched::Request request{.port = port,
                               .priority = static_cast<std::uint32_t>(args[2]),
                               .timeout_us = static_cast<std::uint64_t>(args[3]),
                               .deadline_us = 0,
                               .tag = static_cast<std::uint64_t>(tag)};
  const auto index = static_cast<std::size_t>(row) * width;
  const sched::SubmitResult result = raw_records
      ? shared.core->submit_raw(static_cast<const double*>(data) + index, request)
      : shared.core->submit(static_cast<const float*>(data) + index, request);
  double answer = 0;
  switch (result.rejection) {
    case sched::Rejection::none:
      sink->Submitted();
      answer = static_cast<double>(result.ticket);
      break;
    case sched::Rejection::queue_full: answer = -1; break;
    case sched::Rejection::deadline_unmeetable: answer = -2; break;
    case sched::Rejection::closed: answer = -3; break;
    case sched::Rejection::invalid_argument: throw_range(info.Env(), "submit: the scheduler refused the request");
  }
  napi_value out;
  napi_create_double(env, answer, &out);
  return Napi::Value(env, out);
}

Napi::Value BatchSchedulerWrap::OnSealed(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info[0].IsUndefined() || info[0].IsNull()) {
    shared_->notifier->Set(env, nullptr);
  } else if (info[0].IsFunction()) {
    shared_->notifier->Set(env, info[0]);
  } else {
    throw_type(env, "onSealed(callback): callback must be a function (or null to remove it)");
  }
  return env.Undefined();
}

Napi::Value BatchSchedulerWrap::SetSealedCallbacks(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsBoolean()) throw_type(env, "setSealedCallbacks(enabled): enabled must be a boolean");
  shared_->notifier->set_callbacks_enabled(info[0].As<Napi::Boolean>().Value());
  return env.Undefined();
}

Napi::Value BatchSchedulerWrap::SetReadySignal(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info[0].IsNull() || info[0].IsUndefined()) {
    shared_->notifier->set_ready_signal(sched::kNoReadySignal);
    return env.Undefined();
  }
  const auto signal = static_cast<std::uint32_t>(integer(env, info[0], "setReadySignal(signal): signal", 0, sched::kMaxReadySignals - 1));
  if (!sched::ready_signal_exists(signal)) throw_range(env, "setReadySignal: signal must be an id returned by createReadySignal()");
  shared_->notifier->set_ready_signal(signal);
  return env.Undefined();
}

Napi::Value BatchSchedulerWrap::Take(const Napi::CallbackInfo& info) {
  std::optional<sched::BatchView> batch = shared_->core->take();
  return Napi::Number::New(info.Env(), batch ? static_cast<double>(batch->id) : -1.0);
}

sched::BatchView BatchSchedulerWrap::TakenBatch(const Napi::CallbackInfo& info, const char* method) {
  Napi::Env env = info.Env();
  const std::uint64_t id = integer(env, info[0], std::string(method) + ": batchId", 0, kMaxSafe);
  std::optional<sched::BatchView> batch = shared_->core->batch(id);
  if (!batch) throw_range(env, std::string(method) + ": batch " + std::to_string(id) + " is not taken (or already completed)");
  return *batch;
}

Napi::Value BatchSchedulerWrap::Rows(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), TakenBatch(info, "rows").rows);
}

Napi::Value BatchSchedulerWrap::BatchInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const sched::BatchView batch = TakenBatch(info, "batchInfo");
  Napi::Object out = Napi::Object::New(env);
  out.Set("rows", Napi::Number::New(env, batch.rows));
  out.Set("priorityLevel", Napi::Number::New(env, batch.level + 1));
  // Relative, so JS needs no access to the scheduler's clock; 0 once passed, -1 when none.
  double remaining = -1;
  if (batch.deadline_us != sched::kNoDeadline) {
    const std::uint64_t now = shared_->core->now_us();
    remaining = batch.deadline_us > now ? static_cast<double>(batch.deadline_us - now) : 0.0;
  }
  out.Set("deadlineMicroseconds", Napi::Number::New(env, remaining));
  return out;
}

Napi::Value BatchSchedulerWrap::View(Napi::Env env, std::vector<Napi::Reference<Napi::ArrayBuffer>>& cache,
                                     std::uint32_t slab, float* data, std::size_t width, std::uint32_t rows) {
  // External memory, no copy. Each slab's memory is wrapped once per thread, whole (room for
  // max_batch_size rows), and every later batch in that slab gets a view over the same buffer: no
  // external buffer and finalizer per batch. The finalizer's reference keeps the scheduler (and so
  // the slab memory) alive as long as the buffer exists; the contents of a view are only
  // meaningful until complete/fail.
  if (cache.empty()) cache.resize(shared_->core->config().slab_count);
  Napi::Reference<Napi::ArrayBuffer>& cached = cache[slab];
  if (cached.IsEmpty()) {
    const std::size_t capacity = std::size_t{shared_->core->config().max_batch_size} * width;
    auto* keep = new std::shared_ptr<sched::Scheduler>(shared_->core);
    Napi::ArrayBuffer buffer;
    try {
      buffer = Napi::ArrayBuffer::New(
          env, data, capacity * sizeof(float),
          [](Napi::Env, void*, std::shared_ptr<sched::Scheduler>* k) { delete k; }, keep);
    } catch (...) {
      delete keep;
      throw;
    }
    cached = Napi::Persistent(buffer);
  }
  return Napi::Float32Array::New(env, std::size_t{rows} * width, cached.Value(), 0);
}

Napi::Value BatchSchedulerWrap::InputView(const Napi::CallbackInfo& info) {
  const sched::BatchView batch = TakenBatch(info, "inputView");
  return View(info.Env(), input_buffers_, shared_->core->slab_of(batch.id), batch.input,
              shared_->core->config().input_width, batch.rows);
}

Napi::Value BatchSchedulerWrap::OutputView(const Napi::CallbackInfo& info) {
  const sched::BatchView batch = TakenBatch(info, "outputView");
  return View(info.Env(), output_buffers_, shared_->core->slab_of(batch.id), batch.output,
              shared_->core->config().output_width, batch.rows);
}

Napi::Value BatchSchedulerWrap::Complete(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::uint64_t id = integer(env, info[0], "complete: batchId", 0, kMaxSafe);
  if (!shared_->core->complete(id)) throw_range(env, "complete: batch " + std::to_string(id) + " is not taken (or already completed)");
  return env.Undefined();
}

Napi::Value BatchSchedulerWrap::Fail(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const std::uint64_t id = integer(env, info[0], "fail: batchId", 0, kMaxSafe);
  const auto status = static_cast<sched::Status>(integer(env, info[1], "fail: status", 1, 5));
  if (!info[2].IsString()) throw_type(env, "fail: message must be a string");
  const std::string message = info[2].As<Napi::String>().Utf8Value();
  if (!shared_->core->fail(id, status, message)) {
    throw_range(env, "fail: batch " + std::to_string(id) + " is not taken (or already completed)");
  }
  return env.Undefined();
}

Napi::Value BatchSchedulerWrap::SlabAddress(const Napi::CallbackInfo& info) {
  const sched::BatchView batch = TakenBatch(info, "slabAddress");
  return Napi::BigInt::New(info.Env(), static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(batch.input)));
}

Napi::Value BatchSchedulerWrap::SharedMemoryRegion(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const shm::ShmRegion* region = shared_->core->shared_memory();
  if (region == nullptr) return env.Undefined();
  Napi::Object o = Napi::Object::New(env);
  o.Set("key", Napi::String::New(env, region->key()));
  o.Set("byteSize", Napi::Number::New(env, static_cast<double>(region->size())));
  return o;
}

sched::SharedMemoryOffsets BatchSchedulerWrap::TakenOffsets(const Napi::CallbackInfo& info, const char* method) {
  Napi::Env env = info.Env();
  if (shared_->core->shared_memory() == nullptr) {
    throw_coded(env, std::string(method) + ": the scheduler has no shared memory (create it with sharedMemory: true)",
                "ERR_NO_SHARED_MEMORY");
  }
  const std::uint64_t id = integer(env, info[0], std::string(method) + ": batchId", 0, kMaxSafe);
  std::optional<sched::SharedMemoryOffsets> offsets = shared_->core->shared_memory_offsets(id);
  if (!offsets) throw_range(env, std::string(method) + ": batch " + std::to_string(id) + " is not taken (or already completed)");
  return *offsets;
}

Napi::Value BatchSchedulerWrap::InputOffset(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(TakenOffsets(info, "inputOffset").input));
}

Napi::Value BatchSchedulerWrap::OutputOffset(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(TakenOffsets(info, "outputOffset").output));
}

Napi::Value BatchSchedulerWrap::RequestStatistics(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const sched::RequestStats& r = shared_->core->request_stats();
  Napi::Object o = Napi::Object::New(env);
  auto num = [&](std::uint64_t v) { return Napi::Number::New(env, static_cast<double>(v)); };
  o.Set("succeeded", num(r.succeeded()));
  o.Set("succeededMicroseconds", num(r.succeeded_us()));
  o.Set("failed", num(r.failed()));
  o.Set("failedMicroseconds", num(r.failed_us()));
  // Relative to now, so JS needs no access to the scheduler's clock; -1: nothing answered yet.
  const std::uint64_t last = r.last_answer_us();
  const std::uint64_t now = shared_->core->now_us();
  o.Set("lastAnswerAgeMicroseconds", last == 0 ? Napi::Number::New(env, -1) : num(now > last ? now - last : 0));
  Napi::Array bounds = Napi::Array::New(env, sched::RequestStats::kBoundsUs.size());
  for (std::uint32_t i = 0; i < sched::RequestStats::kBoundsUs.size(); ++i) bounds.Set(i, num(sched::RequestStats::kBoundsUs[i]));
  Napi::Array counts = Napi::Array::New(env, sched::RequestStats::kBuckets);
  for (std::uint32_t i = 0; i < sched::RequestStats::kBuckets; ++i) counts.Set(i, num(r.bucket(i)));
  o.Set("latencyBoundsMicroseconds", bounds);
  o.Set("latencyCounts", counts);
  Napi::Array sizes = Napi::Array::New(env);
  std::uint32_t k = 0;
  for (std::uint32_t size = 1; size <= r.max_batch_size(); ++size) {
    const std::uint64_t n = r.batches_of(size);
    if (n == 0) continue;
    Napi::Object b = Napi::Object::New(env);
    b.Set("batchSize", num(size));
    b.Set("count", num(n));
    b.Set("computeMicroseconds", num(r.batch_us_of(size)));
    sizes.Set(k++, b);
  }
  o.Set("batchSizes", sizes);
  return o;
}

Napi::Value BatchSchedulerWrap::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const sched::SchedulerStats s = shared_->core->stats();
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char* key, double value) { o.Set(key, Napi::Number::New(env, value)); };
  auto u = [](std::uint64_t v) { return static_cast<double>(v); };
  set("submitted", u(s.submitted));
  set("accepted", u(s.accepted));
  set("rejectedQueueFull", u(s.rejected_queue_full));
  set("rejectedDeadlineUnmeetable", u(s.rejected_deadline_unmeetable));
  set("rejectedClosed", u(s.rejected_closed));
  set("deadlineExceeded", u(s.deadline_exceeded));
  set("failedRows", u(s.failed_rows));
  set("batchesExecuted", u(s.batches_executed));
  set("rowsExecuted", u(s.rows_executed));
  set("queueTimeMicrosecondsSum", u(s.queue_time_us_sum));
  set("execTimeMicrosecondsSum", u(s.exec_time_us_sum));
  set("queueDepth", u(s.queue_depth));
  set("readyBatches", u(s.ready_batches));
  set("completionsDropped", u(s.completions_dropped));
  set("voidRows", u(s.void_rows));
  set("estimatedExecMicroseconds", s.estimated_exec_us);
  set("queueDelayMicroseconds", u(s.queue_delay_us));
  set("timerWakeups", u(s.timer_wakeups));
  // Answers this thread's open ports could not hand to JS (out of memory, or their thread going away).
  std::uint64_t dropped = 0;
  for (const auto& sink : env.GetInstanceData<EnvData>()->ports) {
    if (sink->scheduler() == shared_->core.get()) dropped += sink->dropped();
  }
  set("deliveriesDropped", u(dropped));
  return o;
}

Napi::Value BatchSchedulerWrap::Flush(const Napi::CallbackInfo& info) {
  shared_->core->flush();
  return info.Env().Undefined();
}

Napi::Value BatchSchedulerWrap::StopAdmission(const Napi::CallbackInfo& info) {
  shared_->core->stop_admission();
  return info.Env().Undefined();
}

Napi::Value BatchSchedulerWrap::Close(const Napi::CallbackInfo& info) {
  shared_->core->close();
  shared_->notifier->Clear();
  registry::Remove(*shared_);
  return info.Env().Undefined();
}

}  // namespace infergate::binding

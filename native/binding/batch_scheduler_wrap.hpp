// JS class BatchScheduler: a process-wide native dynamic batch scheduler (core/batch_scheduler.hpp),
// reachable from every thread by name. The full JS API is in native/README.md; in short:
//
//   new BatchScheduler(options)      creates and registers one (options: see README); throws on a bad
//                                    option or a name already registered
//   BatchScheduler.attach(name)      another wrapper, on this thread, over the registered one
//   producer side:  openPort(cb) -> portId, closePort(portId), submit(raw, row, portId, priority,
//                   timeoutUs, tag?) -> ticket >= 0 or -1 queue_full / -2 deadline_unmeetable / -3 closed
//   executor side:  onSealed(cb), setSealedCallbacks(enabled), setReadySignal(signal),
//                   take() -> batchId or -1, rows(id), inputView(id), outputView(id),
//                   complete(id), fail(id, status, message), slabAddress(id)
//   shared memory:  sharedMemoryRegion() -> { key, byteSize } | undefined, inputOffset(id),
//                   outputOffset(id) (option sharedMemory: true; see core/shm_region.hpp)
//   flush(), stats(), estimatedExecMicroseconds, name, inputWidth, outputWidth, fields, close()
//
// Only conversion, argument checks and the JS-thread plumbing (ports, notifications) live here.
#pragma once

#include <napi.h>

#include <memory>
#include <vector>

#include "scheduler_registry.hpp"

namespace infergate::binding {

class BatchSchedulerWrap : public Napi::ObjectWrap<BatchSchedulerWrap> {
 public:
  // Also installs this module's per-environment data (the constructor, the thread's open ports).
  static void Register(Napi::Env env, Napi::Object exports);
  explicit BatchSchedulerWrap(const Napi::CallbackInfo& info);

 private:
  static Napi::Value Attach(const Napi::CallbackInfo& info);

  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value InputWidth(const Napi::CallbackInfo& info);
  Napi::Value OutputWidth(const Napi::CallbackInfo& info);
  Napi::Value Fields(const Napi::CallbackInfo& info);
  Napi::Value EstimatedExec(const Napi::CallbackInfo& info);

  Napi::Value OpenPort(const Napi::CallbackInfo& info);
  Napi::Value ClosePort(const Napi::CallbackInfo& info);
  static Napi::Value Submit(const Napi::CallbackInfo& info);  // own property of each wrapper

  Napi::Value OnSealed(const Napi::CallbackInfo& info);
  Napi::Value SetSealedCallbacks(const Napi::CallbackInfo& info);
  Napi::Value SetReadySignal(const Napi::CallbackInfo& info);
  Napi::Value Take(const Napi::CallbackInfo& info);
  Napi::Value Rows(const Napi::CallbackInfo& info);
  // { rows, priorityLevel (1 = highest), deadlineMicroseconds (remaining; -1: none) } of a taken batch.
  Napi::Value BatchInfo(const Napi::CallbackInfo& info);
  // Per-request outcomes, latency histogram and per-batch-size compute (ModelStatistics, metrics).
  Napi::Value RequestStatistics(const Napi::CallbackInfo& info);
  Napi::Value InputView(const Napi::CallbackInfo& info);
  Napi::Value OutputView(const Napi::CallbackInfo& info);
  Napi::Value Complete(const Napi::CallbackInfo& info);
  Napi::Value Fail(const Napi::CallbackInfo& info);
  Napi::Value SlabAddress(const Napi::CallbackInfo& info);
  Napi::Value SharedMemoryRegion(const Napi::CallbackInfo& info);
  Napi::Value InputOffset(const Napi::CallbackInfo& info);
  Napi::Value OutputOffset(const Napi::CallbackInfo& info);

  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Flush(const Napi::CallbackInfo& info);
  Napi::Value StopAdmission(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  sched::BatchView TakenBatch(const Napi::CallbackInfo& info, const char* method);
  sched::SharedMemoryOffsets TakenOffsets(const Napi::CallbackInfo& info, const char* method);
  Napi::Value View(Napi::Env env, std::vector<Napi::Reference<Napi::ArrayBuffer>>& cache, std::uint32_t slab,
                   float* data, std::size_t width, std::uint32_t rows);

  std::shared_ptr<SharedScheduler> shared_;
  Napi::Reference<Napi::Array> fields_;  // built on first read
  // Per slab, built on first use: an external buffer over its input / output memory.
  std::vector<Napi::Reference<Napi::ArrayBuffer>> input_buffers_;
  std::vector<Napi::Reference<Napi::ArrayBuffer>> output_buffers_;
};

}  // namespace infergate::binding

#include "batch_slab.hpp"

#include <algorithm>
#include <cstring>
#include <new>

namespace infergate::sched {

namespace {

constexpr std::size_t kFloatsPerLine = kCacheLine / sizeof(float);

std::size_t round_to_lines(std::size_t floats) { return (floats + kFloatsPerLine - 1) / kFloatsPerLine * kFloatsPerLine; }

float* allocate_floats(std::size_t count) {
  // Zeroed: the executor may read rows before any producer wrote them only in void rows, which are
  // zeroed anyway, but untouched pages would otherwise fault in on the hot path.
  void* p = ::operator new(std::max<std::size_t>(count, 1) * sizeof(float), std::align_val_t{kCacheLine});
  auto* floats = static_cast<float*>(p);
  std::fill(floats, floats + count, 0.0f);
  return floats;
}

}  // namespace

void SlabArena::AlignedDelete::operator()(float* p) const noexcept { ::operator delete(p, std::align_val_t{kCacheLine}); }

SlabArena::SlabArena(std::uint32_t slab_count, std::uint32_t max_batch_size, std::uint32_t input_width,
                     std::uint32_t output_width, bool shared_memory, std::string_view shared_memory_tag)
    : slab_count_(slab_count),
      max_batch_size_(max_batch_size),
      input_stride_(round_to_lines(std::size_t{max_batch_size} * input_width)),
      output_stride_(round_to_lines(std::size_t{max_batch_size} * output_width)),
      slabs_(std::make_unique<Slab[]>(slab_count)),
      inputs_(shared_memory ? nullptr : allocate_floats(input_stride_ * slab_count)),
      outputs_(shared_memory ? nullptr : allocate_floats(output_stride_ * slab_count)),
      meta_(std::make_unique<RowMeta[]>(std::size_t{slab_count} * max_batch_size)),
      scratch_(std::make_unique<Completion[]>(std::size_t{slab_count} * max_batch_size)) {
  if (!shared_memory) {
    input_base_ = inputs_.get();
    output_base_ = outputs_.get();
    return;
  }
  // The strides are whole cache lines, so output_offset(0), and every block offset, is a multiple
  // of 64 bytes; the mapping itself starts on a page.
  const std::size_t bytes = output_offset(0) + std::size_t{slab_count} * output_stride_ * sizeof(float);
  region_.emplace(shm::ShmRegion::create(shm::make_region_key(shared_memory_tag), bytes));
  // The region reads as zeros already; writing them maps every page into this process now rather
  // than on the hot path (as allocate_floats does for the heap).
  std::memset(region_->data(), 0, bytes);
  input_base_ = reinterpret_cast<float*>(region_->data());
  output_base_ = reinterpret_cast<float*>(region_->data() + output_offset(0));
}

}  // namespace infergate::sched

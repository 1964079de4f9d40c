//! The `leaking-allocator` feature: a bump allocator as the global
//! allocator. A plugin on fresh instances lives for one call, so freeing
//! memory is wasted work: the host discards the whole instance afterwards.
//! With many small allocations (every string and list the host passes in
//! is one) this cuts a call's instructions several times over.

#![allow(unsafe_code)] // installing a global allocator is unsafe by nature

use lol_alloc::{AssumeSingleThreaded, LeakingAllocator};

// SAFETY: components built for wasm32-wasip2 are single-threaded.
#[global_allocator]
static ALLOCATOR: AssumeSingleThreaded<LeakingAllocator> =
    unsafe { AssumeSingleThreaded::new(LeakingAllocator::new()) };

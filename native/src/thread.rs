//! A worker thread's own scheduling priority: the log worker lowers its own so the lanes run first when the
//! machine is busy (its records wait in the rings meanwhile).

#[cfg(target_os = "linux")]
pub fn lower_priority(nice: i32) -> bool {
  // SAFETY: gettid and setpriority take plain integers and touch no memory of ours.
  unsafe {
    let tid = libc::syscall(libc::SYS_gettid) as libc::id_t;
    libc::setpriority(libc::PRIO_PROCESS, tid, nice) == 0
  }
}

#[cfg(not(target_os = "linux"))]
pub fn lower_priority(_nice: i32) -> bool {
  false
}

package tick

// SetSchedulerPolicy sets how s places loops: on up to slots phases per
// step, each filled to pack loops before the next opens. 0 means the
// default. For benchmarks that compare policies.
func SetSchedulerPolicy(s *Scheduler, slots, pack int) { s.slots, s.pack = slots, pack }

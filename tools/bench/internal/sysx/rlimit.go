// Package sysx reads what the benchmark measures from /proc and raises the
// file descriptor limit.
package sysx

import "syscall"

// RaiseNoFile raises the soft RLIMIT_NOFILE to the hard limit and returns
// the resulting soft and hard limits.
func RaiseNoFile() (soft, hard uint64, err error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, 0, err
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return rl.Cur, rl.Max, err
		}
	}
	return rl.Cur, rl.Max, nil
}

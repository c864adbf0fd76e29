package load

import (
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// newSleeper returns the pacer's sleep and a function that releases it.
//
// Go's timers are precise while the runtime is busy, but when every P is
// idle the runtime waits in epoll with a timeout in whole milliseconds, so
// a 200 µs sleep takes about 1.1 ms. At loopback latencies that rounding
// would be most of every corrected latency. On Linux the sleep therefore
// also arms a timerfd registered with Go's network poller: its expiry is
// an event that wakes the poller within microseconds, and the runtime
// then finds the Go timer due. Nothing reads the timerfd (re-arming it
// resets it) and the sleeping goroutine holds no thread. When no timerfd
// can be made, sleep is a plain Go timer.
func newSleeper() (sleep func(time.Duration), release func()) {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	goSleep := func(d time.Duration) {
		timer.Reset(d)
		<-timer.C
	}
	fd, err := unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC)
	if err != nil {
		return goSleep, func() {}
	}
	f := os.NewFile(uintptr(fd), "pacer-timerfd") // non-blocking: registered with the poller
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return goSleep, func() {}
	}
	sleep = func(d time.Duration) {
		if d <= 0 {
			return
		}
		// A zero it_value would disarm the timer; d > 0 never is zero.
		spec := unix.ItimerSpec{Value: unix.NsecToTimespec(int64(d))}
		_ = raw.Control(func(fd uintptr) { _ = unix.TimerfdSettime(int(fd), 0, &spec, nil) }) // best effort: the Go timer still fires
		goSleep(d)
	}
	return sleep, func() { f.Close() }
}

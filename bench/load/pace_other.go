//go:build !linux

package load

import "time"

// newSleeper returns a plain Go timer sleep: elsewhere the pacer has no
// timerfd to wake the runtime precisely.
func newSleeper() (sleep func(time.Duration), release func()) {
	return time.Sleep, func() {}
}

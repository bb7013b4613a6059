// Package tick provides fixed-rate simulation clocks: a loop that fires on an
// absolute schedule, so no drift accumulates, and reports how late each tick
// started.
//
// It uses the standard library only and knows nothing about games or
// networking.
package tick

package export_wasmplug_conformance_api

import "runtime"

// Counter is the `counter` resource. The generated code uses `pinner` and
// `handle` to keep a counter alive while the host holds a handle to it.
type Counter struct {
	pinner runtime.Pinner
	handle int32
	value  int64
}

func MakeCounter(start int64) *Counter {
	return &Counter{value: start}
}

func (c *Counter) Add(by int64) int64 {
	c.value += by
	return c.value
}

func (c *Counter) Value() int64 {
	return c.value
}

func (c *Counter) Fork() *Counter {
	return MakeCounter(c.value)
}

// OnDrop runs when the host drops its handle; a counter holds nothing to release.
func (c *Counter) OnDrop() {}

func Merge(a *Counter, b *Counter) *Counter {
	return MakeCounter(a.value + b.value)
}

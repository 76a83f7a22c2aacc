;; Traps in its start function, before `_start` is reached.
(module
  (func $init unreachable)
  (start $init)
  (func (export "_start")))

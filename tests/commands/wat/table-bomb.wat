;; Grows a table until the host refuses, then traps.
(module
  (table 1 funcref)
  (func (export "_start")
    (loop
      (if (i32.eq (table.grow (ref.null func) (i32.const 65536)) (i32.const -1)) (then unreachable))
      (br 0))))

;; Grows its memory, which it does not export, a page at a time; traps,
;; as an allocator aborts, once the host refuses.
(module
  (memory 1)
  (func (export "_start")
    (loop
      (if (i32.eq (memory.grow (i32.const 16)) (i32.const -1)) (then unreachable))
      (br 0))))

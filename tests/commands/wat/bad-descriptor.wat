;; Writes to descriptor 99, which is not open, and exits with the errno it
;; gets back: 8, EBADF.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "hi")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 2))
    (call $exit (call $write (i32.const 99) (i32.const 0) (i32.const 1) (i32.const 16)))))

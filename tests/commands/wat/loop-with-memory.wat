;; Spins forever, with an exported memory.
(module (memory (export "memory") 1) (func (export "_start") (loop (br 0))))

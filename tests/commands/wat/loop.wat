;; Spins forever: no imports, no memory.
(module (func (export "_start") (loop (br 0))))

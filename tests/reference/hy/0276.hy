;; cards and successive fractions for letters A, B, C
(defn solve []
  (setv remaining 80)
  (for [frac [(/ 2 5) (/ 1 2) (/ 5 8)]]
    (setv remaining (- remaining (* remaining frac))))
  remaining)

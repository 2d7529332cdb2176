;; investment values and expected percent gains
(defn gain [value percent]
  (/ (* value percent) 100))

(defn solve []
  (max (gain 5000 2.5) (gain 8000 1.2)))

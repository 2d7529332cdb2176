;; salary, rent and fuel fractions, donation fraction, gifts
(defn solve []
  (setv salary 6000)
  (setv rent (* salary (/ 1 4)))
  (setv fuel (* salary (/ 1 3)))
  (setv remaining (- salary rent fuel))
  (setv after-donation (/ remaining 2))
  (- after-donation 200 700))

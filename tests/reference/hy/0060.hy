;; oranges, bad, unripe percent, sour
(defn solve []
  (setv total 25)
  (setv bad 1)
  (setv unripe (* total (/ 20 100)))
  (setv sour 2)
  (- total bad unripe sour))

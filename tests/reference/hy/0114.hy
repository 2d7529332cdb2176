;; phone capacity, ratio between phones, ratio photos to ducks
(defn solve []
  (let [jamal 1800
        brittany (/ jamal 6)]
    (/ brittany 50)))

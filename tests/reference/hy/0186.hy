;; total straw, rat cages, straw per rat, hamsters, straw per hamster, rabbit straw
(defn solve []
  (let [total 160
        rat-cages 3
        per-rat 6
        hamster-straw (* 10 5)
        rabbit-straw 20
        rats (/ (- total hamster-straw rabbit-straw) per-rat)]
    (/ rats rat-cages)))

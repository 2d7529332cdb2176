;; query: (starting-money)
;; weekly allowance, weeks, final total
(defn starting-money []
  (let [allowance 5 weeks 8 final 100]
    (- final (* allowance weeks))))

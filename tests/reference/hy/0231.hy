;; Robert's shells, extra for Kylie, Tuesday multiplier
(defn solve []
  (let [robert 20
        kylie-monday (+ robert 5)]
    (* 2 kylie-monday)))

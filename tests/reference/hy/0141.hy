;; query: (worker-bees)
;; total bees; workers = 2 * babies, babies = 2 * queens
(defn worker-bees []
  (let [total 700
        parts (+ 1 2 4)
        queens (/ total parts)]
    (* 4 queens)))

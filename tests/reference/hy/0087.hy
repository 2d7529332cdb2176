;; monthly salary, raise percent of initial per year, years, months
(defn solve []
  (let [monthly 600
        raise (* monthly (/ 10 100))
        years 3
        new-monthly (+ monthly (* raise years))]
    (* new-monthly 12)))

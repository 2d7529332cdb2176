;; oranges, oldest son's age, youngest is half
(defn solve []
  (let [oranges 15
        oldest 8
        youngest (// oldest 2)]
    (- oranges oldest youngest)))

;; geraniums and how many fewer petunias
(defn solve []
  (let [geraniums 90
        petunias (- geraniums 40)]
    (+ geraniums petunias)))

;; pencil and eraser prices, number of pens
(defn solve []
  (let [pen (+ 1.2 0.3)]
    (* 8 pen)))

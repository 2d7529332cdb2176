;; hours slept and fraction slept by the friend
(defn solve []
  (let [harry 9
        james (* harry (/ 2 3))]
    (- harry james)))

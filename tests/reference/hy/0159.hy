;; tadpoles seen, newly appearing, hiding
(defn solve []
  (let [seen 11
        appeared 6
        hid 2]
    (- (+ seen appeared) hid)))

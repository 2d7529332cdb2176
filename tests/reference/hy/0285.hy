;; query: (brother-age-later)
;; her age, multiplier, years ahead
(defn brother-age-later []
  (let [ann 9 years 3]
    (+ (* 2 ann) years)))

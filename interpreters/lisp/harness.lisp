;;;; harness.lisp -- a persistent SBCL that runs model-written programs, one request at a time.
;;;;
;;;; Request on stdin:  a header line `(NONCE SECONDS STEPS MAX-OUTPUT CODE-LENGTH QUERY-LENGTH)`,
;;;; then exactly CODE-LENGTH characters of code and QUERY-LENGTH characters of query.
;;;; Reply on stdout:   a line `NONCE STATUS` (`NONCE STATUS !` when this SBCL must be replaced
;;;; before the next program: see INTACT-P), then five escaped lines: answer, output, error,
;;;; error type (the condition's type name, TYPE-ERROR or UNDEFINED-FUNCTION; see ERROR-TYPE),
;;;; warnings (joined by the ASCII unit separator, code 31, before escaping). Escaping: \ -> \\,
;;;; newline -> \n, CR -> \r.
;;;;
;;;; A program runs inside WITH-STANDARD-IO-SYNTAX, so a SETF of a reader or printer variable
;;;; (*read-base*, *print-base*, ...) changes only that program's binding, never the harness's.
;;;;
;;;; Each program is read (with *read-eval* off) and evaluated in a fresh package that uses only
;;;; LOWRES-CL (COMMON-LISP with counting loops, below), named after the request's random nonce
;;;; (no program can create the next one's package first), then the package is deleted, so no
;;;; definition leaks into the next program. Symbols of other packages (sb-ext:exit,
;;;; sb-ext:run-program, ...) are refused before anything runs. After each program, every package
;;;; it made is deleted, and INTACT-P checks what the next program depends on and a program could
;;;; still reach (through INTERN, FIND-SYMBOL, ...): the packages there were, under their names,
;;;; and the functions of COMMON-LISP, LOWRES-CL and this harness. If anything changed, the reply
;;;; says so and this SBCL exits; the worker starts a fresh one for the next program.
;;;;
;;;; Programs are evaluated by SBCL's interpreter (sb-eval), not compiled: compiling a typical
;;;; GSM8K program costs about 0.5 ms, interpreting it about 0.02 ms, and such programs run for
;;;; microseconds. The price: no compile-time style-warnings (a runtime WARN is still captured).
;;;;
;;;; Two limits. A step budget, like Prolog's inference limit: LOWRES-CL's DEFUN, LABELS, FLET,
;;;; LOOP, DO, DO*, DOTIMES and DOLIST count one step per call or iteration, and past the budget
;;;; they THROW to a tag no program can name (HANDLER-CASE cannot catch a throw), so a runaway loop
;;;; ends in about 0.1 s without a kill. Loops it does not see (cl:loop written out, TAGBODY/GO)
;;;; meet the wall-clock limit, sb-ext:with-timeout; the Python side kills this process if a
;;;; program swallows that too.

(defpackage :lowres-harness (:use :cl))
(in-package :lowres-harness)

;;; A full collection every FULL-GC-EVERY programs, after the reply (about 2 ms): programs leave
;;; garbage that survives a nursery collection or two, and SBCL's generational GC let it pile up
;;; (resident memory 30 -> 85 MB over the first 2000 programs) before ever collecting it.
(defparameter +full-gc-every+ 200)

(defvar *steps* 0 "Steps the running program may still take.")
(declaim (type fixnum *steps*))

;;; Interpreted calls take far more stack than compiled ones, and SBCL cannot always recover
;;; from exhausting it ("Control stack exhausted while pseudo-atomic" ends the process), so a
;;; counted call also refuses to go deeper than 3/4 of the 8 MB stack lowres_rl gives SBCL.
(defparameter *stack-floor* (- (sb-sys:sap-int (sb-kernel:current-sp)) (* 6 1024 1024)))

(defun tick ()
  (when (minusp (decf *steps*))
    (throw 'step-limit :exceeded))
  (when (< (sb-sys:sap-int (sb-kernel:current-sp)) *stack-floor*)
    (throw 'step-limit :deep)))

(defparameter +counted+ '("DEFUN" "LABELS" "FLET" "LOOP" "DO" "DO*" "DOTIMES" "DOLIST"))

(defpackage :lowres-cl (:use :cl) (:shadow . #.+counted+))
(do-external-symbols (symbol :cl)
  (unless (member (symbol-name symbol) +counted+ :test #'string=)
    (export (list symbol) :lowres-cl)))  ; a list, or NIL would be exported as no symbols at all
(export (mapcar (lambda (name) (find-symbol name :lowres-cl)) +counted+) :lowres-cl)

(defun counted-body (body &optional doc-allowed)
  "BODY with a step counted first, after its documentation and declarations."
  (multiple-value-bind (forms decls doc) (sb-int:parse-body body doc-allowed t)
    `(,@(when doc (list doc)) ,@decls (tick) ,@forms)))

(defun counted-definitions (definitions)
  (mapcar (lambda (d) `(,(first d) ,(second d) ,@(counted-body (cddr d) t))) definitions))

(defmacro lowres-cl::defun (name lambda-list &body body)
  `(cl:defun ,name ,lambda-list ,@(counted-body body t)))
(defmacro lowres-cl::labels (definitions &body body)
  `(cl:labels ,(counted-definitions definitions) ,@body))
(defmacro lowres-cl::flet (definitions &body body)
  `(cl:flet ,(counted-definitions definitions) ,@body))
(defmacro lowres-cl::loop (&rest clauses)
  (if (every #'consp clauses)                     ; the simple LOOP: a body of compound forms
      `(cl:loop (tick) ,@clauses)
      `(cl:loop ,@clauses do (tick))))            ; the extended LOOP: one more DO clause
(defmacro lowres-cl::do (bindings end &body body)
  `(cl:do ,bindings ,end ,@(counted-body body)))
(defmacro lowres-cl::do* (bindings end &body body)
  `(cl:do* ,bindings ,end ,@(counted-body body)))
(defmacro lowres-cl::dotimes (spec &body body)
  `(cl:dotimes ,spec ,@(counted-body body)))
(defmacro lowres-cl::dolist (spec &body body)
  `(cl:dolist ,spec ,@(counted-body body)))

(sb-ext:lock-package :lowres-cl)  ; a program cannot redefine the counting macros for the next one

(defvar *counter* 0)
(defvar *real-output* *standard-output*)

;;; Output a program prints is kept up to a limit and the rest dropped.
(defclass capped-output (sb-gray:fundamental-character-output-stream)
  ((buffer :initform (make-string-output-stream) :reader buffer)
   (room :initarg :room :accessor room-left)
   (column :initform 0 :accessor column)))

(defmethod sb-gray:stream-write-char ((s capped-output) char)
  (when (plusp (room-left s))
    (decf (room-left s))
    (write-char char (buffer s)))
  (setf (column s) (if (char= char #\Newline) 0 (1+ (column s))))
  char)

(defmethod sb-gray:stream-line-column ((s capped-output)) (column s))

(defun escape (text)
  (with-output-to-string (out)
    (loop for c across text
          do (case c
               (#\\ (write-string "\\\\" out))
               (#\Newline (write-string "\\n" out))
               (#\Return (write-string "\\r" out))
               (t (write-char c out))))))

(defun describe-condition (c)
  (handler-case (let ((*print-length* 20) (*print-level* 4)) (princ-to-string c))
    (error () (format nil "~a" (type-of c)))))

(defun error-type (c)
  "The name of condition C's type, without its package: TYPE-ERROR, END-OF-FILE, or a program's own."
  (let ((type (type-of c)))
    (if (symbolp type) (symbol-name type) (format nil "~a" (class-name (class-of c))))))

(defun failure (status c)
  "The (values status answer error error-type) of a program that signalled C."
  (values status "" (describe-condition c) (error-type c)))

(defun number-text (value)
  "Canonical text: integers as is, ratios and floats as doubles (7/2 -> 3.5)."
  (if (integerp value)
      (format nil "~d" value)
      (let ((*read-default-float-format* 'double-float))
        (prin1-to-string (coerce value 'double-float)))))

(defun answer-text (value)
  (if (realp value)
      (number-text value)
      (let ((*print-length* 20) (*print-level* 4)) (prin1-to-string value))))

(defun read-forms (text package)
  "All forms of TEXT read in PACKAGE. Signals reader errors (a syntax error in the program)."
  (let ((*package* package) (*read-eval* nil) (eof '#:eof))
    (with-input-from-string (in text)
      (loop for form = (read in nil eof)
            until (eq form eof)
            collect form))))

(defun foreign-symbol (form package)
  "The first symbol in FORM from a package other than CL, KEYWORD or the program's own."
  (let ((seen (make-hash-table :test 'eq)))
    (labels ((walk (x)
               (cond ((gethash x seen) nil)
                     ((symbolp x)
                      (let ((home (symbol-package x)))
                        (when (and home (not (member home (list package (find-package :cl)
                                                               (find-package :lowres-cl)
                                                               (find-package :keyword)))))
                          (return-from foreign-symbol x))))
                     ((consp x) (setf (gethash x seen) t) (walk (car x)) (walk (cdr x)))
                     ((and (arrayp x) (not (stringp x)))
                      (setf (gethash x seen) t) (map nil #'walk x)))))
      (walk form)
      nil)))

(defun evaluate (forms query steps)
  "Evaluate the program's FORMS then its QUERY, interpreted, within the step budget; returns
(values status answer error). A program that ran out of steps is out whatever it did next."
  (let* ((sb-ext:*evaluator-mode* :interpret)
         (value nil)
         (outcome (catch 'step-limit
                    (dolist (form forms) (eval form))
                    (setf value (eval query))
                    :done)))
    (cond ((eq outcome :deep)
           (values "memory" "" "recursion too deep: control stack nearly exhausted" ""))
          ((or (eq outcome :exceeded) (minusp *steps*))
           (values "timeout" "" (format nil "step limit exceeded (~d loop iterations and calls)" steps) ""))
          (t (values "ok" (answer-text value) "" "")))))

(defun run-program (nonce code query seconds steps output warnings)
  "Returns (values status answer error error-type)."
  (incf *counter*)
  (let ((package (make-package (format nil "PROGRAM-~a" nonce) :use '(:lowres-cl)))
        (*steps* steps))
    (unwind-protect
         (handler-case
             (let* ((forms (handler-case (read-forms code package)
                             (error (c) (return-from run-program (failure "syntax_error" c)))))
                    (query-forms (handler-case (read-forms query package)
                                   (error (c) (return-from run-program (failure "syntax_error" c)))))
                    (bad (or (foreign-symbol forms package) (foreign-symbol query-forms package))))
               (when bad
                 (return-from run-program
                   (values "runtime_error" "" (format nil "forbidden symbol ~s" bad) "FORBIDDEN-SYMBOL")))
               (when (/= (length query-forms) 1)
                 (return-from run-program
                   (values "syntax_error" "" "the query must be exactly one expression" "")))
               (with-standard-io-syntax
               (let ((*package* package) (*read-eval* nil)
                     (*standard-output* output) (*error-output* output) (*trace-output* output)
                     (*standard-input* (make-string-input-stream "")))
                 (handler-bind ((warning (lambda (w)
                                           (push (describe-condition w) (car warnings))
                                           (muffle-warning w))))
                   (sb-ext:with-timeout seconds
                     (evaluate forms (first query-forms) steps))))))
           (sb-ext:timeout (c) (values "timeout" "" "time limit exceeded" (error-type c)))
           (storage-condition (c) (failure "memory" c))
           (sb-sys:interactive-interrupt (c) (values "runtime_error" "" "interrupted" (error-type c)))
           (error (c) (failure "runtime_error" c)))
      (ignore-errors (delete-package package)))))

(defun snapshot ()
  "What INTACT-P compares with: every package with its names; the symbols of COMMON-LISP,
LOWRES-CL and this harness that name functions, and those functions; the harness's variables
and *default-pathname-defaults* (where relative file names go)."
  (let ((symbols nil))
    (do-external-symbols (symbol :cl)
      (push symbol symbols))
    (dolist (package (list :lowres-cl :lowres-harness))
      (do-symbols (symbol package)
        (when (eq (symbol-package symbol) (find-package package)) (push symbol symbols))))
    (setf symbols (coerce (remove-if-not (lambda (s) (and (fboundp s) (not (special-operator-p s)))) symbols)
                          'simple-vector))
    (list (mapcar (lambda (p) (list* p (package-name p) (package-nicknames p))) (list-all-packages))
          symbols
          (map 'simple-vector #'symbol-function symbols)
          (list *real-output* *stack-floor* *default-pathname-defaults*))))

(defvar *snapshot*)

(defun same-functions-p (symbols functions)
  (declare (simple-vector symbols functions))
  (loop for symbol across symbols
        for function across functions
        always (and (fboundp symbol) (eq (symbol-function symbol) function))))

(defun intact-p ()
  "Delete the packages the program made; true if everything else is as it was."
  (destructuring-bind (packages symbols functions variables) *snapshot*
    (let ((now (list-all-packages)))
      (when (/= (length now) (length packages))
        (dolist (p now)
          (unless (assoc p packages) (ignore-errors (sb-ext:unlock-package p) (delete-package p))))))
    (and (= (length (list-all-packages)) (length packages))
         (every (lambda (entry)
                  (destructuring-bind (p name &rest nicknames) entry
                    (and (eq (package-name p) name) (equal (package-nicknames p) nicknames))))
                packages)
         (same-functions-p symbols functions)
         (equal variables (list *real-output* *stack-floor* *default-pathname-defaults*)))))

(defun serve ()
  (setf *snapshot* (snapshot))
  (loop
    (let ((header (let ((line (read-line *standard-input* nil nil)))
                    (if line
                        (with-standard-io-syntax (let ((*read-eval* nil)) (read-from-string line)))
                        (sb-ext:exit :code 0 :abort t)))))
      (destructuring-bind (nonce seconds steps max-output code-length query-length) header
        (let ((code (make-string code-length))
              (query (make-string query-length))
              (output (make-instance 'capped-output :room max-output))
              (warnings (list nil)))
          (read-sequence code *standard-input*)
          (read-sequence query *standard-input*)
          (multiple-value-bind (status answer error type)
              (run-program nonce code query seconds steps output warnings)
            (let ((intact (intact-p)))
              (format *real-output* "~a ~a~:[ !~;~]~%~a~%~a~%~a~%~a~%~a~%" nonce status intact (escape answer)
                      (escape (get-output-stream-string (buffer output))) (escape error) (escape type)
                      (escape (format nil (format nil "~~{~~a~~^~c~~}" (code-char 31))
                                      (reverse (car warnings)))))
              (finish-output *real-output*)
              (unless intact
                (sb-ext:exit :code 0 :abort t)))
            (when (zerop (mod *counter* +full-gc-every+))
              (sb-ext:gc :full t))))))))

(serve)

;;;; harness.scm -- a Guile fork server: runs model-written Scheme programs, one per request.
;;;;
;;;; Request on stdin:  a line `NONCE SECONDS HEAP-MB MAX-OUTPUT CODE-BYTES QUERY-BYTES`, then
;;;;                    CODE-BYTES bytes of code and QUERY-BYTES bytes of query (UTF-8).
;;;; Reply on stdout:   a line `NONCE` and the byte counts of five fields, then the fields:
;;;;                    STATUS, KIND, ANSWER, OUTPUT, ERROR (lowres_rl.languages.pipe's framing:
;;;;                    length-prefixed, nothing escaped). KIND is `number` (the answer is a real
;;;;                    number as Guile writes it), `value` (any other value, written) or `none`.
;;;;
;;;; This process never evaluates a program: it forks a child per program, and the child reads,
;;;; evaluates and replies through a pipe, then ends. Whatever a program defines, mutates or
;;;; breaks (even `(set! length ...)`, which Guile allows and which would change `length` for every
;;;; module) dies with its child, so programs are isolated without any bookkeeping, and `(exit)` or
;;;; `((@ (guile) primitive-_exit))` ends only the child. A fork costs a millisecond or two. The
;;;; time limit is a kill: a child still running at its deadline is SIGKILLed and the program is a
;;;; `timeout`. The child also has a heap cap (checked after each collection), a stack cap and an
;;;; RLIMIT_CPU backstop.

(use-modules (ice-9 binary-ports)
             (ice-9 threads)
             (rnrs bytevectors)
             (srfi srfi-1)
             (srfi srfi-11)
             (system vm vm))

(define (now)
  (exact->inexact (/ (get-internal-real-time) internal-time-units-per-second)))

(define (utf8 text) (string->utf8 text))

;;; Protocol input ---------------------------------------------------------------------------

(define (read-header port)
  "The next header line as a list of fields, or #f at the end of input."
  (let loop ((bytes '()))
    (let ((byte (get-u8 port)))
      (cond ((eof-object? byte) #f)
            ((= byte 10) (string-split (utf8->string (u8-list->bytevector (reverse bytes))) #\space))
            (else (loop (cons byte bytes)))))))

(define (read-text port count)
  (if (zero? count)
      ""
      (let ((bytes (get-bytevector-n port count)))
        (if (eof-object? bytes) "" (utf8->string bytes)))))

;;; The child: one program -------------------------------------------------------------------

(define (describe key args)
  "One paragraph on an uncaught exception, at most 2000 characters."
  (let ((text (or (false-if-exception
                   (if (and (= (length args) 4) (string? (cadr args)) (not (memq key '(syntax-error))))
                       ;; Guile's usual (subr message format-args data): `In procedure /: ...`
                       (let ((message (apply simple-format #f (cadr args) (or (caddr args) '()))))
                         (if (car args) (format #f "In procedure ~a: ~a" (car args) message) message))
                       (string-trim-right
                        (call-with-output-string (lambda (port) (print-exception port #f key args))))))
                  (format #f "~a ~s" key args))))
    (if (> (string-length text) 2000) (substring text 0 2000) text)))

(define (capped-output limit)
  "A port keeping the first LIMIT bytes written to it, and a thunk returning those bytes."
  (let-values (((sink contents) (open-bytevector-output-port)))
    (let* ((room limit)
           (port (make-custom-binary-output-port
                  "program-output"
                  (lambda (bv start count)
                    (let ((kept (min count room)))
                      (put-bytevector sink bv start kept)
                      (set! room (- room kept))
                      count))
                  #f #f #f)))
      (set-port-encoding! port "UTF-8")
      (set-port-conversion-strategy! port 'substitute)
      (values port (lambda () (false-if-exception (force-output port)) (contents))))))

(define (read-all text file-name)
  (let ((port (open-input-string text)))
    (set-port-filename! port file-name)
    (let loop ((forms '()))
      (let ((form (read port)))
        (if (eof-object? form) (reverse forms) (loop (cons form forms)))))))

(define (call-with-limits heap-mb thunk on-limit)
  "Call THUNK; past HEAP-MB of heap or a stack of HEAP-MB/16 MB, call ON-LIMIT instead."
  (let ((tag (make-prompt-tag))
        (thread (current-thread))
        (heap-bytes (* heap-mb 1024 1024)))
    (define (check-heap)
      (when (> (assq-ref (gc-stats) 'heap-size) heap-bytes)
        (system-async-mark (lambda () (false-if-exception (abort-to-prompt tag "heap limit exceeded")))
                           thread)))
    (call-with-prompt tag
      (lambda ()
        (dynamic-wind
          (lambda () (add-hook! after-gc-hook check-heap))
          (lambda ()
            (call-with-stack-overflow-handler (quotient heap-bytes 128) thunk
              (lambda () (abort-to-prompt tag "stack limit exceeded"))))
          (lambda () (remove-hook! after-gc-hook check-heap))))
      (lambda (k why) (on-limit why)))))

(define (fresh-module)
  "A module of its own for one program: Guile's default bindings plus SRFI-1, exits disabled."
  (let ((module (make-fresh-user-module)))
    (module-use! module (resolve-interface '(srfi srfi-1)))
    (for-each (lambda (name)
                (module-define! module name
                  (lambda args (throw 'quit (if (pair? args) (car args) 0)))))
              '(exit quit primitive-exit primitive-_exit))
    module))

(define (answer-of results)
  "(values status kind answer error) for the query's values."
  (let ((value (if (pair? results) (car results) *unspecified*)))
    (cond ((unspecified? value)
           (values "no_answer" "none" "" "the query returned no value (does solve end in display or set!?)"))
          ((and (real? value) (exact? value) (integer? value))
           (values "ok" "number" (number->string value) ""))
          ((real? value)
           (values "ok" "number" (number->string (exact->inexact value)) ""))
          (else
           (let ((text (call-with-output-string (lambda (port) (write value port)))))
             (values "ok" "value" (if (> (string-length text) 200) (substring text 0 200) text) ""))))))

(define (evaluate code query heap-mb output)
  "(values status kind answer error) for one program."
  (let ((module (fresh-module)))
    (catch #t
      (lambda ()
        (let ((forms (read-all code "program.scm"))
              (query-forms (read-all query "query.scm")))
          (if (not (= (length query-forms) 1))
              (values "syntax_error" "none" "" "the query must be exactly one expression")
              (call-with-limits heap-mb
                (lambda ()
                  (parameterize ((current-output-port output)
                                 (current-error-port output)
                                 (current-input-port (open-input-string "")))
                    (for-each (lambda (form) (eval form module)) forms)
                    (answer-of (call-with-values (lambda () (eval (car query-forms) module)) list))))
                (lambda (why) (values "memory" "none" "" why))))))
      (lambda (key . args)
        (case key
          ((read-error syntax-error) (values "syntax_error" "none" "" (describe key args)))
          ((out-of-memory stack-overflow) (values "memory" "none" "" (describe key args)))
          ((quit) (values "runtime_error" "none" ""
                          (format #f "the program called exit ~s" (if (pair? args) (car args) 0))))
          (else (values "runtime_error" "none" "" (describe key args))))))))

(define (child code query seconds heap-mb max-output out)
  "Run one program and write its reply (without the nonce) to OUT; never returns."
  (catch #t
    (lambda ()
      (let ((null (open-fdes "/dev/null" O_RDWR)))  ; a program's raw fd writes go nowhere
        (dup2 null 0) (dup2 null 1) (dup2 null 2))
      (let ((cpu (+ 1 (inexact->exact (ceiling seconds)))))
        (setrlimit 'cpu cpu (+ cpu 1)))
      (let-values (((port contents) (capped-output max-output)))
        (let-values (((status kind answer error) (evaluate code query heap-mb port)))
          (put-bytevector out (framed (list (utf8 status) (utf8 kind) (utf8 answer) (contents) (utf8 error))))
          (force-output out))))
    (lambda _ #f))
  (primitive-_exit 0))

;;; The server: fork, collect, reply ---------------------------------------------------------

(define (complete-reply bytes)
  "BYTES if they hold a whole reply (header line plus the five fields), else #f."
  (let ((newline (let loop ((i 0))
                   (cond ((= i (bytevector-length bytes)) #f)
                         ((= (bytevector-u8-ref bytes i) 10) i)
                         (else (loop (+ i 1)))))))
    (and newline
         (let* ((fields (string-split (utf8->string (subbytevector bytes 0 newline)) #\space))
                (sizes (and (= (length fields) 5) (map string->number fields))))
           (and sizes (every integer? sizes)
                (= (bytevector-length bytes) (+ newline 1 (apply + sizes)))
                bytes)))))

(define (collect in deadline)
  "The child's reply from IN, #f at end of input without one, or 'timeout at DEADLINE."
  (let ((fd (port->fdes in)))
    (let loop ((data #vu8()))
      (or (complete-reply data)
          (let ((left (- deadline (now))))
            (if (or (<= left 0) (null? (car (select (list fd) '() '() left))))
                'timeout
                (let ((chunk (get-bytevector-some in)))
                  (and (not (eof-object? chunk))
                       (let ((joined (make-bytevector (+ (bytevector-length data) (bytevector-length chunk)))))
                         (bytevector-copy! data 0 joined 0 (bytevector-length data))
                         (bytevector-copy! chunk 0 joined (bytevector-length data) (bytevector-length chunk))
                         (loop joined))))))))))

(define (subbytevector bytes start end)
  (let ((part (make-bytevector (- end start))))
    (bytevector-copy! bytes start part 0 (- end start))
    part))

(define (framed fields)
  "The byte counts of FIELDS (bytevectors) on a line, then the fields."
  (bytevector-append*
   (cons (utf8 (string-append (string-join (map (lambda (bv) (number->string (bytevector-length bv))) fields) " ")
                              "\n"))
         fields)))

(define (failure-reply status error)
  (framed (list (utf8 status) (utf8 "none") #vu8() #vu8() (utf8 error))))

(define (bytevector-append* parts)
  (let ((out (make-bytevector (apply + (map bytevector-length parts)))))
    (fold (lambda (bv at) (bytevector-copy! bv 0 out at (bytevector-length bv)) (+ at (bytevector-length bv)))
          0 parts)
    out))

(define (run-request code query seconds heap-mb max-output)
  "Fork a child for the program and return its reply (or a failure reply) as bytes."
  (let* ((ends (pipe))
         (in (car ends))
         (out (cdr ends))
         (deadline (+ (now) seconds)))
    (force-output (current-output-port))
    (let ((pid (primitive-fork)))
      (when (zero? pid)
        (close-port in)
        (child code query seconds heap-mb max-output out))
      (close-port out)
      (let ((reply (collect in deadline)))
        (when (eq? reply 'timeout)
          (false-if-exception (kill pid SIGKILL)))
        (let ((status (cdr (waitpid pid))))
          (close-port in)
          (cond ((bytevector? reply) reply)
                ((eq? reply 'timeout)
                 (failure-reply "timeout" (format #f "killed after the ~as limit" seconds)))
                ((status:exit-val status)
                 (failure-reply "runtime_error"
                                (format #f "the program ended its process (exit code ~a)"
                                        (status:exit-val status))))
                ((memv (status:term-sig status) (list SIGKILL SIGXCPU))
                 (failure-reply "timeout" "killed at the CPU-time limit"))
                (else
                 (failure-reply "crashed" (format #f "the program's process died (signal ~a)"
                                                  (status:term-sig status))))))))))

(define (serve)
  (let ((in (current-input-port))
        (out (current-output-port)))
    (let loop ()
      (let ((header (read-header in)))
        (when header
          (let* ((nonce (car header))
                 (numbers (map string->number (cdr header)))
                 (code (read-text in (list-ref numbers 3)))
                 (query (read-text in (list-ref numbers 4)))
                 (reply (run-request code query (list-ref numbers 0) (list-ref numbers 1)
                                     (list-ref numbers 2))))
            (put-bytevector out (utf8 (string-append nonce " ")))
            (put-bytevector out reply)
            (force-output out)
            (loop)))))))

(serve)

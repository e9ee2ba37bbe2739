-- An ERROR callback's reason code ('' when it gave none): in details mode the callback is only a
-- notification, but when the details stay out of reach until the deadline it is the one word of
-- the outcome there is, published instead of TIMED_OUT (NULL: no ERROR callback came).
ALTER TABLE ktp_submission ADD COLUMN IF NOT EXISTS callback_error VARCHAR(64);

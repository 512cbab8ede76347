"""The standalone's SQS/S3 emulator with its state on disk: moto in server mode, plus a journal
of queued messages and a directory of objects, written before each request is answered and
read back at start."""

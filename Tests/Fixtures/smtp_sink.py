"""A real SMTP server for the mail test: writes its port to <dir>/port, then appends every message it
receives to <dir>/received as a JSON line."""
import asyncore, json, os, smtpd, sys, warnings
warnings.simplefilter("ignore")
directory = sys.argv[1]

class Sink(smtpd.SMTPServer):
    def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
        text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
        with open(os.path.join(directory, "received"), "a") as received:
            received.write(json.dumps({"from": mailfrom, "to": rcpttos, "data": text}) + "\n")

server = Sink(("127.0.0.1", 0), None)
with open(os.path.join(directory, "port.tmp"), "w") as port:
    port.write(str(server.socket.getsockname()[1]))
os.rename(os.path.join(directory, "port.tmp"), os.path.join(directory, "port"))
asyncore.loop()

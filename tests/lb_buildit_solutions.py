"""Solutions to the chapter-5 build-it exercise (a least-connections picker), right and wrong, as source."""

RIGHT = '''
class LeastConnPicker:
    def __init__(self, weights):
        self.weights = list(weights)
        self.in_flight = [0] * len(self.weights)

    def pick(self):
        scores = [n / w for n, w in zip(self.in_flight, self.weights)]
        i = scores.index(min(scores))
        self.in_flight[i] += 1
        return i

    def done(self, i):
        self.in_flight[i] -= 1
'''

NEVER_DECREMENTS = RIGHT.replace("self.in_flight[i] -= 1", "pass")
IGNORES_WEIGHTS = RIGHT.replace("scores = [n / w for n, w in zip(self.in_flight, self.weights)]",
                                "scores = list(self.in_flight)")
NEVER_COUNTS = RIGHT.replace("        self.in_flight[i] += 1\n", "").replace("self.in_flight[i] -= 1", "pass")

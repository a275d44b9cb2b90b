"""Built-in sentence sets of the explorer (written for this project, no data set needed).

``CALIBRATION`` chooses the activation scales and the exponents; ``EVALUATION`` measures the
error; the two never overlap. ``SIMILARITY`` holds (anchor, paraphrase, unrelated) triples for
the sanity test of the float encoder.
"""

__all__ = ["CALIBRATION", "EVALUATION", "SIMILARITY"]


CALIBRATION = [
    "The train to the airport leaves every twenty minutes.",
    "She planted tomatoes and basil in the small garden behind the house.",
    "Interest rates rose again this quarter, and markets reacted calmly.",
    "A quick brown fox jumps over the lazy dog near the river bank.",
    "The new smartphone has a larger battery and a brighter screen.",
    "Children were playing football in the park until it started to rain.",
    "The museum opens a new exhibition about ancient Egyptian art next month.",
    "He fixed the leaking kitchen tap with a wrench and some tape.",
    "Researchers trained a neural network to detect tumours in medical images.",
    "Our flight was delayed by three hours because of a storm over the Alps.",
    "The recipe calls for two cups of flour, one egg and a pinch of salt.",
    "Volunteers cleaned up plastic waste along the beach on Saturday morning.",
    "The orchestra played Beethoven's fifth symphony to a full concert hall.",
    "Please remember to back up your files before installing the update.",
    "The mountain trail is steep, rocky and closed during the winter months.",
    "A local bakery won an award for the best sourdough bread in town.",
]

EVALUATION = [
    "A man is eating food.",
    "A man is eating a piece of bread.",
    "The girl is carrying a baby.",
    "A man is riding a horse.",
    "A woman is playing the violin.",
    "Two men pushed carts through the woods.",
    "A man is riding a white horse on an enclosed ground.",
    "A monkey is playing drums.",
    "Someone in a gorilla costume is playing a set of drums.",
    "The stock market fell sharply after the central bank's announcement.",
    "Shares dropped quickly when the bank announced higher interest rates.",
    "The cat is sleeping on the warm windowsill.",
    "A kitten naps in the sunshine by the window.",
    "How do I reset my password if I forgot my email address?",
    "I cannot log in because I no longer remember my password.",
    "The weather will be sunny with a light breeze tomorrow.",
    "Heavy snow is expected to close several mountain roads tonight.",
    "Partial sums are quantized to eight bits to save memory traffic.",
    "The accelerator stores its accumulators in a small on-chip buffer.",
    "She finished the marathon in under four hours.",
    "The committee postponed its decision until next week.",
    "Fresh vegetables are sold at the farmers' market every Sunday.",
    "The spacecraft entered orbit around Mars after a seven-month journey.",
    "He apologised for arriving late to the meeting.",
]

SIMILARITY = [
    ("A man is eating food.", "A man is eating a piece of bread.",
     "The spacecraft entered orbit around Mars."),
    ("The cat is sleeping on the warm windowsill.", "A kitten naps in the sunshine by the window.",
     "Interest rates rose again this quarter."),
    ("How do I reset my password?", "I forgot my password and cannot log in.",
     "The orchestra played a symphony."),
    ("The stock market fell sharply today.", "Shares dropped quickly on the exchange.",
     "A monkey is playing drums."),
    ("Heavy snow closed the mountain roads.", "The roads in the mountains were shut by snowfall.",
     "She planted tomatoes in her garden."),
]

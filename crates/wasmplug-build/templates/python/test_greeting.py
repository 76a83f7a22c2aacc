import unittest

from greeting import greet


class GreetTest(unittest.TestCase):
    def test_greets_by_name(self):
        self.assertEqual(greet("world"), "Hello, world!")

    def test_keeps_non_ascii_names_whole(self):
        self.assertEqual(greet("wörld 🌍"), "Hello, wörld 🌍!")

    def test_refuses_an_empty_name(self):
        for name in ["", "   "]:
            with self.assertRaises(ValueError):
                greet(name)


if __name__ == "__main__":
    unittest.main()

import BlytzServices
import Payments

Payments.main()

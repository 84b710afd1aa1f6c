import BlytzServices
import Contracts

Contracts.main()

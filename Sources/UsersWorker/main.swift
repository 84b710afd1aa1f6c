import BlytzServices
import Users

Users.main()
